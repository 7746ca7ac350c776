"""Demo content for `seed_demo`: the policy and rules of a French pharmaceutical company,
topics, guideline pages with a social media charter, about fifty posts in every state of
their life, and a few employee suggestions.

Idempotent: every post is keyed on its title, every other object on what makes it unique,
so a second run creates nothing. The workflow goes through the services (versions, reviews,
audit entries, notifications exist as they would in real use); dates are then moved into
the past with plain updates so that the feed looks like three months of activity.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from content import chains, services
from content.imaging import demo_image_draw
from content.models import (
    ApprovalChain,
    CharterAcceptance,
    ComplianceRule,
    Content,
    ContentKind,
    ContentStatus,
    ContentVersion,
    Guideline,
    GuidelineKind,
    PreviewStatus,
    Review,
    ReviewDecision,
    ReviewerGroup,
    RuleKind,
    Suggestion,
    Topic,
)
from content.services import ContentInput
from notifications.models import Notification
from organizations.models import Organization, Role, Team, User

logger = logging.getLogger(__name__)

DEMO_DOMAIN = "demo.portevoix.test"
SITE = "https://www.santea-laboratoires.example"
SITE_NAME = "Santéa Laboratoires"

DISCLOSURE = "#employee"
BLOCKED_TERMS = {
    "guérison": "Allégation thérapeutique (Code de la santé publique)",
    "sans risque": "Aucun médicament n'est sans risque",
    "miracle": "Allégation excessive",
    "100% efficace": "Allégation d'efficacité interdite",
    "remboursé": "Information sur le remboursement réservée aux affaires réglementaires",
}
TOPICS = ["Innovation", "Recrutement", "RSE", "Produits", "Événements", "Vie de l'entreprise"]

# Lifecycle a demo post ends in. "rejected" is a draft that came back from review;
# "edited" was approved, then edited, so version 2 waits for review.
DRAFT, REJECTED, IN_REVIEW, EDITED = "draft", "rejected", "in_review", "edited"
PUBLISHED, SCHEDULED, EXPIRED, WITHDRAWN = "published", "scheduled", "expired", "withdrawn"
APPROVED_STATES = {PUBLISHED, SCHEDULED, EXPIRED, WITHDRAWN, EDITED}


@dataclass(frozen=True)
class DemoPost:
    title: str
    kind: str
    state: str
    day: int  # publication, in days from today (negative: in the past)
    topics: tuple[str, ...]
    linkedin: tuple[str, ...]
    x: tuple[str, ...] = ()
    facebook: tuple[str, ...] = ()
    why: str = ""
    language: str = "fr"
    link: str = ""  # a path on the company site, or a full URL
    preview: tuple[str, str] = ("", "")  # the page's title and description
    colour: str = "#0f766e"  # image posts
    hashtags: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()  # department names; empty is everyone
    lasts: int | None = None  # days between publication and expiry
    pinned: bool = False
    evergreen: bool = False
    locked: bool = False
    note: str = ""  # the rejection comment or the withdrawal reason
    edit: dict[str, Any] = field(default_factory=dict)  # the change made after approval


POSTS: list[DemoPost] = [
    # --- Published over the last two months -----------------------------------------------
    DemoPost(
        title="Santéa ouvre un centre de bioproduction à Lyon",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-2,
        pinned=True,
        topics=("Innovation", "Vie de l'entreprise"),
        link="/actualites/centre-bioproduction-lyon",
        preview=(
            "Un centre de bioproduction de 12 000 m² à Lyon-Gerland",
            "120 emplois créés d'ici 2027 et une capacité de production doublée pour nos "
            "biomédicaments.",
        ),
        why="Notre plus gros investissement industriel depuis dix ans : parlons-en fièrement.",
        hashtags=("#Santéa", "#Lyon", "#Bioproduction"),
        linkedin=(
            "Fier de voir Santéa investir à Lyon : notre nouveau centre de bioproduction va "
            "créer 120 emplois et doubler nos capacités. Une belle nouvelle pour l'industrie "
            "de santé en France !",
            "12 000 m², 120 emplois, des biomédicaments produits en France : le nouveau "
            "centre de bioproduction de Santéa à Lyon ouvre ses portes.",
            "Produire en France les biomédicaments de demain : c'est le pari de notre "
            "nouveau site lyonnais. Découvrez le projet.",
        ),
        x=(
            "Santéa ouvre un centre de bioproduction à Lyon : 120 emplois et une capacité "
            "doublée. Fier d'en faire partie !",
            "Nouveau centre de bioproduction à Lyon pour Santéa : 12 000 m² dédiés aux "
            "biomédicaments.",
        ),
        facebook=(
            "Grande nouvelle pour Lyon : Santéa ouvre un centre de bioproduction et recrute "
            "120 personnes !",
        ),
    ),
    DemoPost(
        title="Nous recrutons 40 talents à Lyon",
        kind=ContentKind.IMAGE,
        state=PUBLISHED,
        day=-4,
        pinned=True,
        colour="#1d4ed8",
        topics=("Recrutement",),
        why="Chaque partage touche des candidats que nos offres seules n'atteignent pas.",
        hashtags=("#Recrutement", "#Lyon", "#EmploiSanté"),
        linkedin=(
            "Mon entreprise recrute ! 40 postes ouverts à Lyon en production, qualité et "
            "maintenance. Rejoignez-nous et donnez du sens à votre métier.",
            "Vous cherchez un métier utile ? Santéa recrute 40 personnes à Lyon : "
            "techniciens, pharmaciens, ingénieurs. Les offres sont sur notre site carrières.",
            "Qualité, production, maintenance : 40 postes à pourvoir chez Santéa à Lyon. "
            "Parlez-en autour de vous !",
        ),
        x=("Santéa recrute 40 talents à Lyon : production, qualité, maintenance. À vous !",),
        facebook=(
            "Santéa recrute 40 personnes à Lyon ! Partagez autour de vous, il y a "
            "sûrement un futur collègue dans vos amis.",
        ),
    ),
    DemoPost(
        title="Portes ouvertes familles sur le site de Paris",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-6,
        topics=("Vie de l'entreprise",),
        why="Un moment convivial à partager, sans information confidentielle.",
        hashtags=("#VieDEntreprise",),
        linkedin=(
            "Samedi, nos familles ont découvert nos laboratoires parisiens : ateliers pour "
            "les enfants, visites et beaucoup de questions passionnantes !",
        ),
        x=("Journée portes ouvertes familles chez Santéa à Paris : merci à tous !",),
        facebook=(
            "Quelle journée ! Nos enfants ont joué aux apprentis scientifiques dans nos "
            "laboratoires parisiens.",
        ),
    ),
    DemoPost(
        title="Notre rapport RSE 2025 est en ligne",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-8,
        locked=True,
        topics=("RSE",),
        link="/engagements/rapport-rse-2025",
        preview=(
            "Rapport RSE 2025 — Santéa Laboratoires",
            "Émissions en baisse de 18 %, 42 % d'électricité renouvelable, parité au comité "
            "de direction : nos résultats et nos prochains objectifs.",
        ),
        why="Les chiffres sont vérifiés par un tiers : la légende est verrouillée.",
        hashtags=("#RSE", "#Santéa"),
        linkedin=(
            "Le rapport RSE 2025 de Santéa est publié : -18 % d'émissions, 42 % d'électricité "
            "renouvelable et la parité au comité de direction.",
            "Transparence : nos résultats sociaux et environnementaux 2025, vérifiés par un "
            "organisme tiers indépendant, sont en ligne.",
        ),
        x=("Rapport RSE 2025 de Santéa : -18 % d'émissions et 42 % d'électricité verte.",),
        facebook=("Nos engagements RSE 2025, chiffres à l'appui, sont en ligne.",),
    ),
    DemoPost(
        title="Santéa joins a European consortium on antimicrobial resistance",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-10,
        language="en",
        topics=("Innovation",),
        link="/en/news/amr-consortium",
        preview=(
            "Santéa joins the European AMR research consortium",
            "Twelve partners from six countries pool their research on new antibiotics.",
        ),
        why="Antimicrobial resistance is a public health priority; our research matters.",
        hashtags=("#AMR", "#Research"),
        linkedin=(
            "Proud that Santéa joins a European consortium of twelve partners working on "
            "antimicrobial resistance. Research is a team sport!",
            "Antimicrobial resistance needs collective answers: Santéa now works with eleven "
            "European partners on new antibiotics.",
        ),
        x=("Santéa joins a European research consortium on antimicrobial resistance.",),
        facebook=(
            "Santéa joins European researchers in the fight against antimicrobial resistance.",
        ),
    ),
    DemoPost(
        title="Retour sur le congrès de pharmacie hospitalière",
        kind=ContentKind.IMAGE,
        state=PUBLISHED,
        day=-12,
        colour="#0369a1",
        topics=("Événements",),
        audience=("Sales",),
        why="Pour les équipes commerciales qui ont rencontré les pharmaciens sur le stand.",
        hashtags=("#PharmacieHospitalière",),
        linkedin=(
            "Trois jours d'échanges riches avec les pharmaciens hospitaliers. Merci à tous "
            "ceux qui sont passés sur notre stand !",
            "Un congrès, des centaines de rencontres : merci aux pharmaciens hospitaliers "
            "pour ces discussions sur le bon usage et la sécurité.",
        ),
        x=("Merci aux pharmaciens hospitaliers rencontrés au congrès cette semaine !",),
    ),
    DemoPost(
        title="Notre position sur l'accès aux médicaments essentiels",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-58,
        evergreen=True,
        topics=("RSE", "Produits"),
        why="Notre position officielle, à partager quand le sujet revient dans l'actualité.",
        hashtags=("#AccèsAuxSoins",),
        linkedin=(
            "Chez Santéa, nous nous engageons à maintenir la production de nos médicaments "
            "essentiels en Europe et à alerter les autorités le plus tôt possible en cas de "
            "tension d'approvisionnement.",
        ),
        x=(
            "Médicaments essentiels : Santéa s'engage à produire en Europe et à prévenir "
            "les tensions d'approvisionnement.",
        ),
        facebook=("Nos engagements pour l'accès aux médicaments essentiels.",),
    ),
    DemoPost(
        title="Our commitment to responsible clinical trials",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-55,
        evergreen=True,
        language="en",
        topics=("RSE", "Innovation"),
        why="Our official position: share it when clinical research is in the news.",
        hashtags=("#ClinicalResearch", "#Transparency"),
        linkedin=(
            "Every clinical trial Santéa sponsors is registered before it starts, and its "
            "results are published whatever they are. That is what responsible research "
            "means to us.",
        ),
        x=("Every Santéa trial is registered and its results published, whatever they are.",),
    ),
    DemoPost(
        title="Bien-être animal : nos engagements dans la recherche",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-50,
        evergreen=True,
        topics=("RSE", "Innovation"),
        why="Sujet sensible : utilisez uniquement cette légende, validée par le juridique.",
        locked=True,
        hashtags=("#Recherche", "#3R"),
        linkedin=(
            "Remplacer, réduire, raffiner : Santéa applique la règle des 3R et finance des "
            "méthodes alternatives à l'expérimentation animale.",
        ),
        x=("Recherche : Santéa applique la règle des 3R et finance les méthodes alternatives.",),
    ),
    DemoPost(
        title="Alternance 2026 : les candidatures sont ouvertes",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-14,
        topics=("Recrutement",),
        link="/carrieres/alternance-2026",
        preview=(
            "Alternance 2026 chez Santéa",
            "35 contrats en production, qualité, data et marketing, à Paris et Lyon.",
        ),
        why="Vos réseaux comptent des étudiants et des parents d'étudiants.",
        hashtags=("#Alternance", "#Recrutement"),
        linkedin=(
            "Étudiants, Santéa ouvre 35 contrats d'alternance pour la rentrée 2026 à Paris "
            "et Lyon. J'ai commencé en alternance ici : foncez !",
            "35 alternances à pourvoir chez Santéa en production, qualité, data et "
            "marketing. Partagez à ceux qui cherchent !",
        ),
        x=("35 contrats d'alternance chez Santéa pour la rentrée 2026 !",),
        facebook=(
            "Vous connaissez un étudiant qui cherche une alternance ? Santéa en propose 35 !",
        ),
    ),
    DemoPost(
        title="1 200 collaborateurs ont marché pour la recherche",
        kind=ContentKind.IMAGE,
        state=PUBLISHED,
        day=-16,
        colour="#15803d",
        topics=("RSE", "Vie de l'entreprise"),
        why="Une belle action collective : 24 000 € reversés à la recherche pédiatrique.",
        hashtags=("#Solidarité",),
        linkedin=(
            "1 200 collègues, 9 600 kilomètres et 24 000 € reversés à la recherche "
            "pédiatrique. Quelle fierté d'avoir marché avec vous !",
            "Notre marche solidaire a réuni 1 200 collaborateurs : 24 000 € pour la "
            "recherche sur les cancers de l'enfant.",
        ),
        x=("1 200 collègues ont marché pour la recherche pédiatrique : 24 000 € récoltés !",),
        facebook=("Merci à tous les marcheurs : 24 000 € pour la recherche pédiatrique !",),
    ),
    DemoPost(
        title="Des flacons 100 % recyclables pour nos sirops",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-18,
        topics=("Produits", "RSE"),
        link="/actualites/flacons-recyclables",
        preview=(
            "Des flacons 100 % recyclables",
            "Nos sirops passent au flacon en PET recyclé : 80 tonnes de plastique vierge "
            "évitées chaque année.",
        ),
        why="Une avancée concrète de notre plan emballages.",
        hashtags=("#Écoconception",),
        linkedin=(
            "80 tonnes de plastique vierge évitées chaque année : nos sirops passent au "
            "flacon 100 % recyclable.",
        ),
        x=(
            "Nos sirops passent au flacon 100 % recyclable : 80 t de plastique vierge "
            "évitées par an.",
        ),
    ),
    DemoPost(
        title="Welcome to our new Data science colleagues",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-20,
        language="en",
        topics=("Vie de l'entreprise",),
        audience=("Research & Development",),
        why="For the R&D teams welcoming six new data scientists in Lyon.",
        hashtags=("#DataScience", "#Welcome"),
        linkedin=("Six new data scientists joined our Lyon R&D team this month. Welcome aboard!",),
        x=("Welcome to the six data scientists who joined Santéa R&D in Lyon!",),
    ),
    DemoPost(
        title="Intelligence artificielle et pharmacovigilance : notre approche",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-22,
        topics=("Innovation",),
        audience=("Medical Affairs",),
        link="/expertise/ia-pharmacovigilance",
        preview=(
            "IA et pharmacovigilance : l'humain reste au centre",
            "Comment nos équipes utilisent l'apprentissage automatique pour trier les "
            "signalements, toujours validés par un pharmacien.",
        ),
        why="Pour les affaires médicales : un article de fond à partager entre pairs.",
        hashtags=("#Pharmacovigilance", "#IA"),
        linkedin=(
            "L'IA nous aide à traiter plus vite les signalements d'effets indésirables, mais "
            "chaque décision reste prise par un pharmacien. Notre approche en détail.",
        ),
        x=("IA et pharmacovigilance : la machine trie, le pharmacien décide.",),
    ),
    DemoPost(
        title="Santéa au salon VivaTech",
        kind=ContentKind.IMAGE,
        state=PUBLISHED,
        day=-25,
        colour="#7c3aed",
        topics=("Événements", "Innovation"),
        why="Nos start-up partenaires et nos équipes data étaient présentes.",
        hashtags=("#VivaTech", "#eSanté"),
        linkedin=(
            "Trois jours à VivaTech avec nos start-up partenaires de la e-santé. Merci pour "
            "toutes ces rencontres inspirantes !",
            "De la donnée de vie réelle aux jumeaux numériques : retour sur nos échanges à "
            "VivaTech.",
        ),
        x=("Santéa était à VivaTech avec ses start-up partenaires de la e-santé !",),
        facebook=("Retour en images sur notre stand à VivaTech.",),
    ),
    DemoPost(
        title="Nos équipes de pharmacovigilance veillent 24 h/24",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-27,
        topics=("Vie de l'entreprise",),
        audience=("Medical Affairs",),
        why="Un coup de projecteur sur un métier méconnu.",
        hashtags=("#Pharmacovigilance",),
        linkedin=(
            "Nuit et jour, nos pharmaciens analysent chaque signalement d'effet indésirable. "
            "Un métier essentiel pour la sécurité des patients.",
        ),
        x=("Nos équipes de pharmacovigilance veillent 24 h/24 sur la sécurité des patients.",),
    ),
    DemoPost(
        title="Zéro plastique à usage unique sur nos sites d'ici 2027",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-28,
        topics=("RSE",),
        link="/engagements/zero-plastique",
        preview=(
            "Objectif zéro plastique à usage unique",
            "Gobelets, couverts, emballages de laboratoire : notre plan pour 2027.",
        ),
        why="Chacun peut y contribuer sur son site.",
        hashtags=("#RSE", "#ZéroPlastique"),
        linkedin=(
            "D'ici 2027, plus aucun plastique à usage unique sur les sites Santéa. Les "
            "gourdes sont déjà distribuées !",
        ),
        x=("Objectif 2027 : zéro plastique à usage unique sur les sites Santéa.",),
        facebook=("Nos sites disent adieu au plastique à usage unique d'ici 2027.",),
    ),
    DemoPost(
        title="Témoignage : de stagiaire à responsable qualité",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-30,
        topics=("Recrutement",),
        why="Les parcours internes donnent envie de nous rejoindre.",
        hashtags=("#Carrière", "#Qualité"),
        linkedin=(
            "Arrivée en stage il y a huit ans, Julie dirige aujourd'hui la qualité de notre "
            "site de Lyon. Chez Santéa, les parcours se construisent.",
            "Huit ans, trois postes, une passion : le parcours de Julie, responsable "
            "qualité à Lyon.",
        ),
        x=("De stagiaire à responsable qualité : le parcours de Julie chez Santéa.",),
    ),
    DemoPost(
        title="Hackathon data science : les projets gagnants",
        kind=ContentKind.IMAGE,
        state=PUBLISHED,
        day=-31,
        colour="#b45309",
        topics=("Innovation", "Événements"),
        audience=("Research & Development",),
        why="Bravo aux équipes R&D : trois projets passent en phase pilote.",
        hashtags=("#Hackathon", "#DataScience"),
        linkedin=(
            "48 heures, 14 équipes, 3 projets retenus pour un pilote : bravo à tous les "
            "participants de notre hackathon data science !",
        ),
        x=("Hackathon data science Santéa : 3 projets passent en phase pilote !",),
    ),
    DemoPost(
        title="Santéa certified Top Employer France 2026",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-33,
        language="en",
        topics=("Recrutement",),
        link="/en/careers/top-employer-2026",
        preview=(
            "Santéa is a Top Employer France 2026",
            "An independent certification of our HR practices, for the third year running.",
        ),
        why="Third certification in a row: good news for our recruiters.",
        hashtags=("#TopEmployer", "#Careers"),
        linkedin=(
            "For the third year running, Santéa is certified Top Employer France. Proud to "
            "work here!",
            "Top Employer France 2026: an independent recognition of how Santéa cares for "
            "its people.",
        ),
        x=("Santéa certified Top Employer France for the third year running!",),
        facebook=("Santéa is Top Employer France 2026!",),
    ),
    DemoPost(
        title="Le site de Lyon fête ses 50 ans",
        kind=ContentKind.IMAGE,
        state=PUBLISHED,
        day=-36,
        colour="#be123c",
        topics=("Vie de l'entreprise", "Événements"),
        why="Un anniversaire qui rassemble anciens et nouveaux collègues.",
        hashtags=("#Lyon", "#50ans"),
        linkedin=(
            "50 ans de production pharmaceutique à Lyon ! Merci aux générations de "
            "collègues qui ont fait vivre ce site.",
            "Joyeux anniversaire au site de Lyon : 50 ans d'expertise industrielle au "
            "service des patients.",
        ),
        x=("Le site Santéa de Lyon fête ses 50 ans !",),
        facebook=("50 ans déjà pour notre site de Lyon : bon anniversaire !",),
    ),
    DemoPost(
        title="Pénuries : comment nous sécurisons nos approvisionnements",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-39,
        topics=("Produits",),
        link="/actualites/securiser-approvisionnements",
        preview=(
            "Sécuriser l'approvisionnement des médicaments",
            "Double sourcing, stocks de sécurité, production relocalisée : nos leviers.",
        ),
        why="Sujet d'actualité : voici nos faits, sans polémique.",
        hashtags=("#Approvisionnement",),
        linkedin=(
            "Double sourcing des principes actifs, stocks de sécurité, production en "
            "Europe : comment Santéa limite les risques de rupture.",
        ),
        x=("Ruptures de médicaments : les leviers de Santéa pour sécuriser l'approvisionnement.",),
    ),
    DemoPost(
        title="Semaine de la qualité de vie au travail",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-42,
        topics=("Vie de l'entreprise",),
        why="Ateliers, conférences et sport : merci aux équipes People & Culture.",
        hashtags=("#QVT",),
        linkedin=(
            "Yoga, ateliers sommeil, conférences sur la parentalité : belle semaine de la "
            "qualité de vie au travail chez Santéa !",
        ),
        x=("Belle semaine de la qualité de vie au travail chez Santéa !",),
        facebook=("Une semaine pour prendre soin de nous : merci à tous les intervenants.",),
    ),
    DemoPost(
        title="Partenariat avec l'Université de Lyon sur les maladies rares",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-45,
        topics=("Innovation",),
        link="/actualites/partenariat-maladies-rares",
        preview=(
            "Maladies rares : un partenariat de recherche de cinq ans",
            "Une chaire commune, dix doctorants et un accès partagé à nos plateformes.",
        ),
        why="La recherche publique et privée avancent mieux ensemble.",
        hashtags=("#MaladiesRares", "#Recherche"),
        linkedin=(
            "Une chaire commune, dix doctorants, cinq ans de recherche : Santéa s'associe à "
            "l'Université de Lyon sur les maladies rares.",
            "Recherche publique et privée main dans la main pour les maladies rares : fier "
            "de ce nouveau partenariat.",
        ),
        x=("Santéa et l'Université de Lyon lancent une chaire sur les maladies rares.",),
    ),
    DemoPost(
        title="Join us at the European hospital pharmacy congress",
        kind=ContentKind.IMAGE,
        state=PUBLISHED,
        day=-47,
        language="en",
        colour="#0f766e",
        topics=("Événements",),
        audience=("Sales",),
        why="For the sales teams meeting international customers.",
        hashtags=("#HospitalPharmacy",),
        linkedin=(
            "Meet the Santéa team at the European hospital pharmacy congress next week, booth 42!",
        ),
        x=("Meet Santéa at the European hospital pharmacy congress, booth 42!",),
    ),
    DemoPost(
        title="Don du sang : merci aux 300 volontaires",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-52,
        topics=("RSE", "Vie de l'entreprise"),
        why="Une collecte record sur nos deux sites.",
        hashtags=("#DonDuSang",),
        linkedin=(
            "300 collègues ont donné leur sang lors de notre collecte à Paris et Lyon. "
            "Merci à eux et à l'Établissement français du sang !",
        ),
        x=("300 donneurs lors de la collecte de sang Santéa : merci !",),
        facebook=("Collecte record : 300 collègues ont donné leur sang !",),
    ),
    # --- Approved, waiting for their date -------------------------------------------------
    DemoPost(
        title="Webinaire carrières : les métiers de la production",
        kind=ContentKind.LINK,
        state=SCHEDULED,
        day=2,
        topics=("Recrutement", "Événements"),
        link="/carrieres/webinaire-production",
        preview=(
            "Webinaire : découvrez les métiers de la production",
            "Une heure pour échanger avec nos techniciens et ingénieurs.",
        ),
        why="Le webinaire a lieu la semaine prochaine : partagez dès la publication.",
        hashtags=("#Recrutement", "#Webinaire"),
        linkedin=(
            "Vous vous demandez à quoi ressemble une journée en production pharmaceutique ? "
            "Nos équipes vous répondent en direct lors de notre webinaire.",
        ),
        x=("Webinaire : découvrez les métiers de la production pharmaceutique chez Santéa.",),
    ),
    DemoPost(
        title="Journée mondiale de la sécurité des patients",
        kind=ContentKind.IMAGE,
        state=SCHEDULED,
        day=5,
        colour="#0369a1",
        topics=("RSE", "Événements"),
        lasts=10,
        why="Publication le jour J, retirée automatiquement dix jours après.",
        hashtags=("#SécuritéDesPatients",),
        linkedin=(
            "Aujourd'hui, journée mondiale de la sécurité des patients. Merci à toutes les "
            "équipes qui font de la sécurité notre première exigence.",
        ),
        x=("Journée mondiale de la sécurité des patients : notre première exigence.",),
    ),
    DemoPost(
        title="Santéa at the BIO-Europe partnering conference",
        kind=ContentKind.TEXT,
        state=SCHEDULED,
        day=9,
        language="en",
        topics=("Événements", "Innovation"),
        why="Our business development team will be there: help them book meetings.",
        hashtags=("#BIOEurope",),
        linkedin=("Santéa's business development team will be at BIO-Europe. Let's meet!",),
        x=("Santéa will be at BIO-Europe: let's meet!",),
    ),
    DemoPost(
        title="Résultats annuels 2025",
        kind=ContentKind.LINK,
        state=SCHEDULED,
        day=14,
        locked=True,
        topics=("Vie de l'entreprise",),
        link="/finance/resultats-2025",
        preview=(
            "Résultats annuels 2025",
            "Chiffre d'affaires, investissements et perspectives : le communiqué.",
        ),
        why="Information réglementée : ne partagez que la légende fournie, après publication.",
        hashtags=("#Résultats",),
        linkedin=("Les résultats annuels 2025 de Santéa sont publiés.",),
        x=("Les résultats annuels 2025 de Santéa sont publiés.",),
    ),
    # --- Expired ---------------------------------------------------------------------------
    DemoPost(
        title="Forum emploi de Lyon : venez nous rencontrer",
        kind=ContentKind.LINK,
        state=EXPIRED,
        day=-57,
        lasts=10,
        topics=("Recrutement",),
        link="/carrieres/forum-emploi-lyon",
        preview=("Forum emploi de Lyon", "Nos recruteurs vous attendent sur le stand B12."),
        why="Le forum est passé : ce contenu a expiré.",
        hashtags=("#ForumEmploi",),
        linkedin=("Santéa sera au forum emploi de Lyon : venez nous rencontrer stand B12 !",),
        x=("Rendez-vous au forum emploi de Lyon, stand B12 !",),
    ),
    DemoPost(
        title="Semaine de la mobilité : le défi vélo",
        kind=ContentKind.IMAGE,
        state=EXPIRED,
        day=-48,
        lasts=7,
        colour="#15803d",
        topics=("RSE", "Vie de l'entreprise"),
        why="Le défi est terminé.",
        hashtags=("#Mobilité",),
        linkedin=("Cette semaine, on vient au travail à vélo ! Qui relève le défi ?",),
        x=("Défi vélo de la semaine de la mobilité : qui relève le défi ?",),
    ),
    DemoPost(
        title="Course solidaire : inscriptions ouvertes",
        kind=ContentKind.TEXT,
        state=EXPIRED,
        day=-40,
        lasts=20,
        topics=("RSE",),
        why="Les inscriptions sont closes.",
        hashtags=("#Solidarité",),
        linkedin=("Inscrivez-vous à la course solidaire Santéa avant la fin du mois !",),
    ),
    # --- Waiting for review ---------------------------------------------------------------
    DemoPost(
        title="Lancement de notre programme de mentorat",
        kind=ContentKind.TEXT,
        state=IN_REVIEW,
        day=6,
        topics=("Vie de l'entreprise",),
        why="Un programme ouvert à tous, de toutes les fonctions.",
        hashtags=("#Mentorat",),
        linkedin=(
            "Santéa lance son programme de mentorat : 80 binômes pour apprendre les uns des "
            "autres, toutes fonctions confondues.",
        ),
        x=("Santéa lance un programme de mentorat ouvert à tous.",),
    ),
    DemoPost(
        title="Une nouvelle ligne de production de vaccins à Lyon",
        kind=ContentKind.IMAGE,
        state=IN_REVIEW,
        day=8,
        colour="#1d4ed8",
        topics=("Produits", "Innovation"),
        why="En attente de validation par les affaires médicales.",
        hashtags=("#Vaccins", "#Lyon"),
        linkedin=(
            "Notre site de Lyon accueille une nouvelle ligne de remplissage de vaccins, "
            "avec 30 postes à la clé.",
        ),
        x=("Nouvelle ligne de production de vaccins à Lyon : 30 postes créés.",),
    ),
    DemoPost(
        title="Our first sustainability-linked loan",
        kind=ContentKind.LINK,
        state=IN_REVIEW,
        day=11,
        language="en",
        topics=("RSE",),
        link="/en/news/sustainability-linked-loan",
        preview=(
            "Santéa signs a sustainability-linked loan",
            "Its interest rate depends on our climate and diversity targets.",
        ),
        why="Financial news: the finance team must approve the wording.",
        hashtags=("#SustainableFinance",),
        linkedin=(
            "Santéa signs its first sustainability-linked loan: the better we do on "
            "climate and diversity, the lower the rate.",
        ),
    ),
    DemoPost(
        title="Santéa rejoint le Pacte mondial des Nations unies",
        kind=ContentKind.TEXT,
        state=EDITED,
        day=4,
        topics=("RSE",),
        why="Un engagement public sur dix principes.",
        hashtags=("#GlobalCompact",),
        linkedin=(
            "Santéa rejoint le Pacte mondial des Nations unies et s'engage sur ses dix principes.",
        ),
        x=("Santéa rejoint le Pacte mondial des Nations unies.",),
        edit={
            "title": "Santéa rejoint le Pacte mondial des Nations unies et publie ses objectifs",
            "linkedin": (
                "Santéa rejoint le Pacte mondial des Nations unies et publie ses objectifs "
                "pour 2030 sur ses dix principes.",
            ),
        },
    ),
    # --- Drafts ---------------------------------------------------------------------------
    DemoPost(
        title="Podcast : les coulisses du contrôle qualité",
        kind=ContentKind.LINK,
        state=DRAFT,
        day=15,
        topics=("Vie de l'entreprise",),
        link="/podcast/controle-qualite",
        preview=(
            "Podcast « Dans nos labos » — épisode 4",
            "Une journée avec l'équipe du contrôle qualité de Lyon.",
        ),
        why="Épisode à programmer pour la fin du mois.",
        hashtags=("#Podcast",),
        linkedin=("Nouvel épisode de notre podcast : les coulisses du contrôle qualité.",),
    ),
    DemoPost(
        title="Retour en images sur le séminaire des managers",
        kind=ContentKind.TEXT,
        state=DRAFT,
        day=12,
        topics=("Vie de l'entreprise",),
        why="Photos à choisir avec les équipes People & Culture.",
        linkedin=("Deux jours pour construire ensemble notre feuille de route 2026.",),
    ),
    DemoPost(
        title="Notre nouveau traitement change la vie des patients",
        kind=ContentKind.TEXT,
        state=REJECTED,
        day=10,
        topics=("Produits",),
        why="Proposition de l'équipe marketing.",
        linkedin=(
            "Notre nouveau traitement change la vie des patients atteints de polyarthrite. "
            "Parlez-en à votre médecin !",
        ),
        note=(
            "La publicité auprès du public pour un médicament soumis à prescription est "
            "interdite (article L. 5122-6 du Code de la santé publique). Parlez de notre "
            "recherche sur la polyarthrite, sans nommer ni recommander le traitement."
        ),
    ),
    # --- Withdrawn ------------------------------------------------------------------------
    DemoPost(
        title="Job dating à Marseille",
        kind=ContentKind.TEXT,
        state=WITHDRAWN,
        day=-9,
        topics=("Recrutement", "Événements"),
        why="Rencontrer nos recruteurs en dix minutes chrono.",
        hashtags=("#JobDating",),
        linkedin=("Santéa organise un job dating à Marseille le 12 : inscrivez-vous !",),
        note="Événement annulé par l'organisateur : merci de supprimer vos partages.",
    ),
    DemoPost(
        title="Étude de phase II : premiers résultats encourageants",
        kind=ContentKind.LINK,
        state=WITHDRAWN,
        day=-19,
        topics=("Innovation",),
        link="https://www.journal-sante.example/2026/etude-phase-2-santea",
        preview=(
            "Santéa : des résultats de phase II encourageants",
            "L'article de presse sur notre étude clinique.",
        ),
        why="Article de presse sur notre étude.",
        hashtags=("#Recherche",),
        linkedin=("Des résultats encourageants pour notre étude de phase II !",),
        note=(
            "Retiré à la demande des affaires médicales : les résultats ne sont pas encore "
            "publiés dans une revue à comité de lecture."
        ),
    ),
    # --- Published two to three months ago (the analytics history) ------------------------
    # Appended last so that the earlier posts keep their place (and time of day).
    DemoPost(
        title="Santéa renouvelle son partenariat avec la Ligue contre le cancer",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-61,
        topics=("RSE",),
        link="/actualites/partenariat-ligue",
        preview=(
            "Trois ans de plus aux côtés de la Ligue contre le cancer",
            "Un soutien à la recherche et aux associations de patients.",
        ),
        why="Un engagement de long terme que nos équipes portent au quotidien.",
        hashtags=("#Santéa", "#RSE"),
        linkedin=(
            "Fier que Santéa renouvelle pour trois ans son partenariat avec la Ligue contre "
            "le cancer : recherche, soutien aux patients et aux aidants.",
            "Trois ans de plus aux côtés de la Ligue contre le cancer : un engagement qui "
            "nous tient à cœur.",
        ),
        x=("Santéa renouvelle son partenariat avec la Ligue contre le cancer pour 3 ans.",),
    ),
    DemoPost(
        title="Nos techniciens de production racontent leur métier",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-64,
        topics=("Recrutement", "Vie de l'entreprise"),
        why="Les métiers de la production sont nos plus gros besoins de recrutement.",
        hashtags=("#Production", "#Recrutement"),
        linkedin=(
            "Conduite de ligne, contrôle en cours de fabrication, maintenance : nos "
            "techniciens de production racontent leur quotidien. Et nous recrutons !",
        ),
        facebook=("Rencontrez nos techniciens de production, ils racontent leur métier.",),
    ),
    DemoPost(
        title="Santéa publishes its 2025 clinical trial transparency report",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-67,
        language="en",
        topics=("Innovation",),
        link="/en/news/clinical-transparency-2025",
        preview=(
            "Clinical trial transparency report 2025",
            "Every trial registered, every result published.",
        ),
        why="Transparency is what regulators and patients expect from us.",
        hashtags=("#ClinicalTrials", "#Transparency"),
        linkedin=(
            "Every trial we sponsor is registered before it starts and its results are "
            "published: our 2025 transparency report is out.",
        ),
        x=("Our 2025 clinical trial transparency report is out: every result published.",),
    ),
    DemoPost(
        title="Semaine européenne du développement durable sur nos sites",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-70,
        topics=("RSE", "Événements"),
        why="Montrer nos actions concrètes, site par site.",
        hashtags=("#DéveloppementDurable",),
        linkedin=(
            "Ateliers, covoiturage, ramassage de déchets : la semaine du développement "
            "durable a mobilisé nos équipes de Paris et Lyon.",
        ),
        x=("Une semaine du développement durable très suivie sur nos sites !",),
        facebook=("Retour sur notre semaine du développement durable à Paris et Lyon.",),
    ),
    DemoPost(
        title="Pharmacovigilance : comment déclarer un effet indésirable",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-73,
        topics=("Produits",),
        link="/pharmacovigilance/declarer",
        preview=(
            "Déclarer un effet indésirable",
            "Patients et professionnels de santé peuvent déclarer un effet indésirable.",
        ),
        why="Rappeler à tous que chaque déclaration compte.",
        evergreen=True,
        linkedin=(
            "Patients, professionnels de santé : chaque effet indésirable déclaré aide à "
            "mieux connaître les médicaments. Voici comment faire.",
        ),
    ),
    DemoPost(
        title="Trois questions à notre directrice de la recherche",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-76,
        topics=("Innovation",),
        audience=("Research & Development", "Medical Affairs"),
        why="Une vision de nos priorités de recherche pour les trois ans à venir.",
        hashtags=("#Recherche",),
        linkedin=(
            "Immunologie, maladies rares, données de vie réelle : notre directrice de la "
            "recherche présente nos priorités pour les trois prochaines années.",
        ),
    ),
    DemoPost(
        title="Journée sécurité : zéro accident sur le site de Lyon",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-79,
        topics=("Vie de l'entreprise",),
        why="Un an sans accident avec arrêt : le travail de toutes les équipes.",
        hashtags=("#Sécurité", "#Lyon"),
        linkedin=(
            "Un an sans accident avec arrêt sur le site de Lyon : bravo à toutes les "
            "équipes pour leur vigilance au quotidien.",
        ),
        x=("Site de Lyon : un an sans accident avec arrêt. Bravo aux équipes !",),
    ),
    DemoPost(
        title="Welcome to our 2026 graduate programme",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-82,
        language="en",
        topics=("Recrutement",),
        why="Our graduates are tomorrow's managers: make them feel welcome.",
        hashtags=("#Graduates",),
        linkedin=(
            "Twelve graduates joined Santéa this month for two years across production, "
            "quality and data. Welcome aboard!",
        ),
        x=("Welcome to the twelve graduates joining Santéa this month!",),
    ),
    DemoPost(
        title="Nos sirops pédiatriques désormais fabriqués en France",
        kind=ContentKind.LINK,
        state=PUBLISHED,
        day=-85,
        topics=("Produits", "Vie de l'entreprise"),
        link="/actualites/relocalisation-sirops",
        preview=(
            "La production de nos sirops pédiatriques relocalisée à Lyon",
            "Une ligne dédiée et 25 emplois créés.",
        ),
        why="Une relocalisation dont toute l'entreprise peut être fière.",
        hashtags=("#MadeInFrance",),
        linkedin=(
            "Nos sirops pédiatriques sont désormais fabriqués à Lyon : une ligne dédiée et "
            "25 emplois créés.",
            "Relocaliser la production de médicaments essentiels, c'est possible : nos "
            "sirops pédiatriques sont fabriqués à Lyon.",
        ),
        x=("Nos sirops pédiatriques sont désormais fabriqués en France, à Lyon.",),
        facebook=("Nos sirops pour enfants sont maintenant fabriqués à Lyon !",),
    ),
    DemoPost(
        title="Bienvenue aux nouveaux arrivants de janvier",
        kind=ContentKind.TEXT,
        state=PUBLISHED,
        day=-88,
        topics=("Vie de l'entreprise",),
        why="Un accueil chaleureux commence par un message public.",
        linkedin=("Vingt nouveaux collègues ont rejoint Santéa ce mois-ci. Bienvenue à eux !",),
    ),
]


@dataclass(frozen=True)
class DemoSuggestion:
    author: str  # "employee" or an index in the list of other employees
    url: str = ""
    text: str = ""
    comment: str = ""
    decision: str = ""  # "", "accept" or "decline"
    note: str = ""


SUGGESTIONS = [
    DemoSuggestion(
        author="employee",
        url="https://www.journal-sante.example/2026/lyon-bioproduction-emplois",
        comment="A great article about our new Lyon site: my hospital customers asked me about it.",
    ),
    DemoSuggestion(
        author="0",
        text="L'équipe Key accounts a collecté 400 jouets pour le service de pédiatrie de "
        "l'hôpital de Lyon.",
        comment="Une belle initiative que nos clients hospitaliers ont remarquée.",
    ),
    DemoSuggestion(
        author="1",
        url=f"{SITE}/carrieres/temoignages/data-scientist",
        comment="Le témoignage de notre data scientist donnerait envie à mes anciens "
        "camarades de promo.",
    ),
    DemoSuggestion(
        author="2",
        text="Bravo à l'équipe Biologie pour sa publication sur le microbiote intestinal !",
        comment="C'est le fruit de trois ans de travail.",
    ),
    DemoSuggestion(
        author="3",
        text="Notre site de Paris a obtenu la certification ISO 50001 pour sa gestion de "
        "l'énergie.",
        comment="Une reconnaissance du travail des services généraux.",
        decision="accept",
        note="Merci ! Nous préparons un post avec une photo de l'équipe.",
    ),
    DemoSuggestion(
        author="4",
        url="https://www.journal-sante.example/2019/portrait-santea",
        comment="Un vieux portrait de l'entreprise.",
        decision="decline",
        note="L'article date de 2019 : les chiffres ne sont plus à jour.",
    ),
]


GUIDELINES = {
    GuidelineKind.CHARTER: (
        "Charte d'usage des réseaux sociaux",
        """# Charte d'usage des réseaux sociaux

Cette charte s'applique à tous les collaborateurs de Santéa Laboratoires qui parlent de
l'entreprise sur les réseaux sociaux, à titre professionnel ou personnel. Elle vous protège
autant qu'elle protège l'entreprise et les patients.

## 1. Je m'exprime en mon nom

- Je parle en mon nom propre et je **signale mon lien avec Santéa** : la mention
  `#employee` est ajoutée automatiquement à chaque partage depuis Portevoix.
- Je ne me présente jamais comme porte-parole de l'entreprise.
- Je reste courtois, y compris face à une critique ; je ne réponds pas aux polémiques et
  je préviens l'équipe communication (comms@demo.portevoix.test).

## 2. Je ne fais pas la promotion de nos médicaments

La publicité auprès du grand public pour un médicament soumis à prescription est interdite
(article L. 5122-6 du Code de la santé publique).

- Je ne cite pas le nom de nos médicaments de prescription et je ne commente pas leur
  efficacité, leur tolérance ou leur prix.
- Je n'emploie jamais d'allégation comme « guérison », « sans risque » ou « miracle » : les
  légendes proposées dans Portevoix ont été validées par les affaires médicales et
  juridiques.
- Je ne partage pas d'information sur une étude clinique avant sa publication officielle.

## 3. Je signale tout effet indésirable

Si un message, un commentaire ou une conversation mentionne un effet indésirable lié à
l'un de nos produits, je le transmets **dans les 24 heures** à la pharmacovigilance
(pharmacovigilance@demo.portevoix.test), même si j'ai un doute. Je ne réponds pas
moi-même sur le fond.

## 4. Je protège les informations confidentielles

- Aucune donnée de patient, de professionnel de santé ou de collègue sans son accord.
- Aucune information financière non publiée : les résultats et projets stratégiques sont
  des informations privilégiées (règlement européen sur les abus de marché).
- Pas de photo de nos laboratoires ou de nos lignes de production sans autorisation.

## 5. En cas de crise

Quand un contenu est retiré dans Portevoix, je supprime mon partage dès que possible : un
message vous explique pourquoi. En cas de doute, je m'abstiens et je demande conseil.

---

En acceptant cette charte, je m'engage à la respecter. Elle peut évoluer : je serai invité
à accepter chaque nouvelle version.
""",
    ),
    GuidelineKind.TONE: (
        "Notre ton",
        """# Notre ton sur les réseaux sociaux

Santéa parle comme une équipe de soignants et de scientifiques : **précise, chaleureuse et
modeste**.

## Nous sommes

- **Clairs** : des phrases courtes, un chiffre vérifié plutôt qu'un superlatif.
- **Humains** : nous parlons des personnes qui font l'entreprise, pas seulement des
  résultats.
- **Responsables** : la santé n'est pas un sujet de buzz.

## Nous évitons

- Les superlatifs (« révolutionnaire », « unique », « le meilleur »).
- Les émojis en série : un seul suffit, et jamais sur un sujet médical.
- L'ironie et le second degré, qui se lisent mal hors contexte.

## Personnaliser une légende

Ajoutez une phrase sur votre expérience : c'est ce qui rend un partage crédible. Gardez
les chiffres et les faits de la légende d'origine.
""",
    ),
    GuidelineKind.BRAND: (
        "Identité de marque",
        """# Identité de marque

- **Nom** : « Santéa » ou « Santéa Laboratoires », jamais « Santea » ni « SANTÉA ».
- **Couleur principale** : vert sarcelle `#0f766e`.
- **Hashtag de marque** : `#Santéa`, à placer en fin de message.
- **Visuels** : utilisez les images fournies avec les contenus ; leurs formats sont
  adaptés à chaque réseau.

Pour toute demande de visuel ou de logo, écrivez à l'équipe communication.
""",
    ),
    GuidelineKind.POSITIONS: (
        "Nos positions",
        """# Nos positions

Les contenus marqués « Nos positions » dans le fil présentent la position officielle de
Santéa sur des sujets de société. Ils restent disponibles dans la durée.

## Accès aux médicaments essentiels

Nous produisons nos médicaments essentiels en Europe et prévenons les autorités dès
qu'une tension d'approvisionnement apparaît.

## Transparence de la recherche clinique

Chaque essai que nous promouvons est enregistré avant son début, et ses résultats sont
publiés, qu'ils soient positifs ou non.

## Bien-être animal

Nous appliquons la règle des 3R (remplacer, réduire, raffiner) et finançons le
développement de méthodes alternatives.
""",
    ),
}


# --- Seeding --------------------------------------------------------------------------------


def seed_demo_content(sender: object, organization: Organization, **kwargs: Any) -> None:
    admin, comms, reviewer, employee = (
        User.objects.filter(email=f"{local}@{DEMO_DOMAIN}", organization=organization).first()
        for local in ("admin", "comms", "reviewer", "employee")
    )
    if admin is None or comms is None or reviewer is None or employee is None:
        logger.warning("Demo content skipped: the demo people are missing.")
        return
    zone = ZoneInfo(organization.time_zone)

    with transaction.atomic():
        first_notification = (
            Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
        )
        _seed_rules(organization, admin)
        topics = {
            name: services.topic_get_or_create(organization=organization, name=name)
            for name in TOPICS
        }
        _seed_chains(organization, admin, reviewer, topics["Produits"])
        _seed_guidelines(organization, comms)
        departments = {
            team.name: team for team in Team.objects.filter(organization=organization, parent=None)
        }
        existing = set(
            Content.objects.filter(organization=organization).values_list("title", flat=True)
        )
        now = timezone.now()
        for index, post in enumerate(POSTS):
            if post.title in existing or post.edit.get("title") in existing:
                continue
            _seed_post(
                post,
                index,
                now=now,
                comms=comms,
                reviewer=reviewer,
                zone=zone,
                topics=topics,
                departments=departments,
            )
        _seed_suggestions(organization, employee, comms)
        _seed_charter_acceptances(organization, employee)
        _tidy_notifications(organization, first_notification)


def _seed_rules(organization: Organization, admin: User) -> None:
    policy = services.policy_for(organization)
    if not policy.disclosure:
        # Only on the first run: an administrator's later choice is kept.
        services.policy_update(actor=admin, disclosure=DISCLOSURE)
    existing = set(
        ComplianceRule.objects.filter(
            organization=organization, kind=RuleKind.BLOCKED_TERM
        ).values_list("value", flat=True)
    )
    for term, note in BLOCKED_TERMS.items():
        if term not in existing:
            services.compliance_rule_add(
                actor=admin, kind=RuleKind.BLOCKED_TERM, value=term, note=note
            )


MEDICAL_LEGAL = "Médical → Juridique"


def _seed_chains(organization: Organization, admin: User, reviewer: User, products: Topic) -> None:
    """A pharmaceutical company's review: product news goes to Medical affairs (the demo
    reviewer, through a group), then Legal (the admin); everything else keeps the default
    chain's single step. Made once: an administrator's later changes are kept."""
    chains.chain_default_for(organization)
    if ApprovalChain.objects.filter(organization=organization, name=MEDICAL_LEGAL).exists():
        return
    medical = ReviewerGroup.objects.filter(organization=organization, name="Affaires médicales")
    group = medical.first() or chains.reviewer_group_save(
        actor=admin, name="Affaires médicales", members=[reviewer]
    )
    chain = chains.chain_save(actor=admin, name=MEDICAL_LEGAL)
    chains.chain_steps_replace(
        actor=admin,
        chain=chain,
        steps=[
            chains.StepInput(name="Médical", reviewer_group=group, deadline_hours=48),
            chains.StepInput(name="Juridique", reviewers=[admin], deadline_hours=24),
        ],
    )
    chains.rule_add(actor=admin, chain=chain, data=chains.RuleInput(priority=10, topic=products))


def _seed_guidelines(organization: Organization, comms: User) -> None:
    existing = set(
        Guideline.objects.filter(organization=organization).values_list("kind", flat=True)
    )
    for kind, (title, body) in GUIDELINES.items():
        if kind not in existing:
            services.guideline_save(actor=comms, kind=kind, title=title, body=body)


def _at(now: datetime, day: int, index: int, zone: ZoneInfo) -> datetime:
    """A plausible time of day for a post `day` days from now, in office hours."""
    local = now.astimezone(zone) + timedelta(days=day)
    hour, minute = [(8, 30), (9, 15), (11, 0), (12, 30), (14, 0), (16, 45), (17, 30)][index % 7]
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _link_url(post: DemoPost) -> str:
    return post.link if post.link.startswith("https://") else f"{SITE}{post.link}"


def _input(
    post: DemoPost, *, publish_at: datetime, topics: dict[str, Topic], departments: dict[str, Team]
) -> ContentInput:
    captions = {
        network: list(texts)
        for network, texts in (
            ("linkedin", post.linkedin),
            ("x", post.x),
            ("facebook", post.facebook),
        )
        if texts
    }
    image = None
    if post.kind == ContentKind.IMAGE:
        image = SimpleUploadedFile("demo.jpg", _demo_photo(post), content_type="image/jpeg")
    return ContentInput(
        # A link post starts as text: its link is set below without queueing a fetch of
        # a site that does not exist, which would only replace the preview with a failure.
        kind=ContentKind.TEXT if post.kind == ContentKind.LINK else post.kind,
        title=post.title,
        why_it_matters=post.why,
        hashtags=list(post.hashtags),
        topics=[topics[name] for name in post.topics],
        language=post.language,
        audience_teams=[departments[name] for name in post.audience if name in departments],
        publish_at=publish_at,
        expires_at=publish_at + timedelta(days=post.lasts) if post.lasts else None,
        pinned=post.pinned,
        evergreen=post.evergreen,
        caption_locked=post.locked,
        captions=captions,
        image=image,
    )


def _demo_photo(post: DemoPost) -> bytes:
    """The post's illustration as a JPEG, like most photos editors upload; re-encoding the
    original as an optimised PNG would double the time the demo takes."""
    png = demo_image_draw(title=post.title, colour=post.colour, seed=len(post.title))
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(png)) as drawn:
        drawn.convert("RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _seed_post(
    post: DemoPost,
    index: int,
    *,
    now: datetime,
    comms: User,
    reviewer: User,
    zone: ZoneInfo,
    topics: dict[str, Topic],
    departments: dict[str, Team],
) -> Content:
    publish_at = _at(now, post.day, index, zone)
    data = _input(post, publish_at=publish_at, topics=topics, departments=departments)
    content = services.content_create(actor=comms, data=data)
    if post.kind == ContentKind.LINK:
        _attach_link(content, post)

    if post.state != DRAFT:
        content = services.content_submit(actor=comms, content=content)
    if post.state == REJECTED:
        content = services.content_reject(actor=reviewer, content=content, comment=post.note)
    if post.state in APPROVED_STATES:
        content = services.content_approve(actor=reviewer, content=content)
        if content.status == ContentStatus.IN_REVIEW:
            # Product news also passes the Legal step, the admin's.
            admin = User.objects.get(
                organization=content.organization, email=f"admin@{DEMO_DOMAIN}"
            )
            content = services.content_approve(actor=admin, content=content)
    if post.state == WITHDRAWN:
        content = services.content_withdraw(actor=comms, content=content, reason=post.note)
    if post.state == EDITED:
        data = _input(post, publish_at=publish_at, topics=topics, departments=departments)
        data.kind, data.link_url = content.kind, content.link_url  # the link stays as it is
        data.title = post.edit.get("title", post.title)
        data.captions["linkedin"] = list(post.edit.get("linkedin", post.linkedin))
        content = services.content_update(actor=comms, content=content, data=data)

    _backdate(content, publish_at=publish_at, now=now)
    return content


def _attach_link(content: Content, post: DemoPost) -> None:
    url = _link_url(post)
    site_name = SITE_NAME if url.startswith(SITE) else "Journal de la santé"
    Content.objects.filter(pk=content.pk).update(
        kind=ContentKind.LINK,
        link_url=url,
        preview_status=PreviewStatus.READY,
        preview_title=post.preview[0] or post.title,
        preview_description=post.preview[1],
        preview_site_name=site_name,
        preview_image_url="",
        preview_error="",
    )
    # Keep the first version's snapshot true to the content.
    version = ContentVersion.objects.get(content=content, number=content.version)
    version.snapshot = {**version.snapshot, "kind": ContentKind.LINK, "link_url": url}
    version.save(update_fields=["snapshot"])
    content.refresh_from_db()


def _backdate(content: Content, *, publish_at: datetime, now: datetime) -> None:
    """Move creation and review dates before the publication, so that the library and the
    review history read like two months of work."""
    created = min(publish_at, now) - timedelta(days=3, hours=2)
    reviewed = min(publish_at - timedelta(days=1), now - timedelta(hours=1))
    reviewed = max(reviewed, created + timedelta(hours=5))
    Content.objects.filter(pk=content.pk).update(created_at=created, updated_at=reviewed)
    ContentVersion.objects.filter(content=content, number=1).update(created_at=created)
    Review.objects.filter(content=content).update(created_at=reviewed)


def _seed_suggestions(organization: Organization, employee: User, comms: User) -> None:
    others = list(
        User.objects.filter(organization=organization, role=Role.EMPLOYEE, is_active=True)
        .exclude(pk=employee.pk)
        .order_by("email")[:5]
    )
    for item in SUGGESTIONS:
        author = employee if item.author == "employee" else _nth(others, int(item.author))
        if author is None:
            continue
        if Suggestion.objects.filter(
            organization=organization, author=author, url=item.url, text=item.text
        ).exists():
            continue
        suggestion = services.suggestion_create(
            actor=author, url=item.url, text=item.text, comment=item.comment
        )
        if item.decision:
            services.suggestion_decide(
                actor=comms,
                suggestion=suggestion,
                accept=item.decision == "accept",
                note=item.note,
            )


def _nth(users: list[User], index: int) -> User | None:
    return users[index] if index < len(users) else None


def _seed_charter_acceptances(organization: Organization, employee: User) -> None:
    """Most people have accepted the charter; the demo employee has not, so that the demo
    shows the acceptance step."""
    charter = Guideline.objects.filter(
        organization=organization, kind=GuidelineKind.CHARTER
    ).first()
    if charter is None or CharterAcceptance.objects.filter(guideline=charter).exists():
        return
    people = User.objects.filter(organization=organization, is_active=True).order_by("email")
    for index, user in enumerate(people):
        if user.pk != employee.pk and index % 3 != 2:
            services.charter_accept(user=user)


def _tidy_notifications(organization: Organization, first_id: int) -> None:
    """Keep only what is still current among the notifications the workflow produced (the
    review requests still open, the rejection, the suggestion decisions); the others would
    flood the demo inboxes, and mailboxes, with two months of history at once."""
    waiting = Content.objects.filter(organization=organization, status=ContentStatus.IN_REVIEW)
    rejected = Content.objects.filter(
        organization=organization,
        status=ContentStatus.DRAFT,
        reviews__decision=ReviewDecision.REJECT,
    )
    current = (
        Q(kind="content.review_requested", url__in=_detail_urls(waiting))
        | Q(kind="content.decision", url__in=_detail_urls(rejected))
        | Q(kind="content.suggestion_decided")
    )
    Notification.objects.filter(
        organization=organization, id__gt=first_id, kind__startswith="content."
    ).exclude(current).delete()


def _detail_urls(contents: Any) -> list[str]:
    return [reverse("content_detail", args=[pk]) for pk in contents.values_list("pk", flat=True)]
