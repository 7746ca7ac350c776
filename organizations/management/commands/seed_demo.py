"""Demo data: an organisation with a team tree and about 60 people in every role.
Idempotent: running it again changes nothing. Later features add their own demo data
through the `demo_seeded` signal."""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from organizations.models import Membership, Organization, Role, Team, TeamKind, User
from organizations.signals import demo_history, demo_seeded

DEMO_PASSWORD = "portevoix-demo"  # noqa: S105  (documented demo credential)
DEMO_DOMAIN = "demo.portevoix.test"
# The second demo organisation, and the agency person who works in both.
CLIENT_SLUG = "demo-vexia"
AGENCY_EMAIL = f"agency@{DEMO_DOMAIN}"

TREE = {
    ("Communication", TeamKind.DEPARTMENT): {
        ("Paris", TeamKind.SITE): ["Corporate communication", "Digital & social"],
    },
    ("Medical Affairs", TeamKind.DEPARTMENT): {
        ("Paris", TeamKind.SITE): ["Medical information", "Pharmacovigilance"],
        ("Lyon", TeamKind.SITE): ["Clinical operations"],
    },
    ("Sales", TeamKind.DEPARTMENT): {
        ("Paris", TeamKind.SITE): ["Hospital", "Retail pharmacy"],
        ("Lyon", TeamKind.SITE): ["Key accounts"],
    },
    ("Research & Development", TeamKind.DEPARTMENT): {
        ("Lyon", TeamKind.SITE): ["Biology", "Data science"],
    },
    ("People & Culture", TeamKind.DEPARTMENT): {
        ("Paris", TeamKind.SITE): ["Talent acquisition"],
    },
}

NAMED = [
    (
        "admin",
        "Alice",
        "Admin",
        Role.ORG_ADMIN,
        "Talent acquisition",
        "Head of internal tools",
        "fr",
    ),
    (
        "comms",
        "Camille",
        "Comms",
        Role.EDITOR,
        "Corporate communication",
        "Social media manager",
        "fr",
    ),
    (
        "reviewer",
        "Romain",
        "Reviewer",
        Role.REVIEWER,
        "Medical information",
        "Medical reviewer",
        "fr",
    ),
    ("manager", "Marion", "Manager", Role.MANAGER, "Hospital", "Sales director", "fr"),
    (
        "compliance",
        "Clara",
        "Compliance",
        Role.COMPLIANCE_OFFICER,
        "Pharmacovigilance",
        "Compliance officer",
        "fr",
    ),
    ("employee", "Eliott", "Employee", Role.EMPLOYEE, "Hospital", "Hospital sales rep", "en"),
]

FIRST = [
    "Léa",
    "Hugo",
    "Chloé",
    "Louis",
    "Inès",
    "Jules",
    "Manon",
    "Gabriel",
    "Sarah",
    "Arthur",
    "Emma",
    "Nathan",
    "Zoé",
    "Lucas",
    "Jade",
    "Adam",
    "Louise",
    "Raphaël",
    "Alice",
    "Paul",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
]
TITLES = [
    "Sales representative",
    "Medical science liaison",
    "Scientist",
    "Data analyst",
    "Project manager",
    "Recruiter",
    "Pharmacist",
    "Clinical research associate",
]


class Command(BaseCommand):
    help = "Load the demo organisation, its teams and people (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo refuses to run in production mode (PORTEVOIX_ENV=production)."
            )
        with demo_history():
            with transaction.atomic():
                organization = self._seed()
            demo_seeded.send(sender=self.__class__, organization=organization)
            with transaction.atomic():
                self._seed_client_organization(organization)
        count = organization.members.count()
        self.stdout.write(self.style.SUCCESS(f"Demo organisation ready: {count} people."))

    def _seed(self) -> Organization:
        organization, _ = Organization.objects.get_or_create(
            slug="demo",
            defaults={
                "name": "Santéa Laboratoires",
                "default_language": "fr",
                "time_zone": "Europe/Paris",
                "brand_colour": "#0f766e",
            },
        )
        leaves: dict[str, Team] = {}
        departments: dict[str, Team] = {}
        for (dept_name, dept_kind), sites in TREE.items():
            dept, _ = Team.objects.get_or_create(
                organization=organization, parent=None, name=dept_name, defaults={"kind": dept_kind}
            )
            departments[dept_name] = dept
            for (site_name, site_kind), teams in sites.items():
                site, _ = Team.objects.get_or_create(
                    organization=organization,
                    parent=dept,
                    name=site_name,
                    defaults={"kind": site_kind},
                )
                for team_name in teams:
                    team, _ = Team.objects.get_or_create(
                        organization=organization,
                        parent=site,
                        name=team_name,
                        defaults={"kind": TeamKind.TEAM},
                    )
                    leaves[team_name] = team

        for local, first, last, role, team_name, title, language in NAMED:
            user = self._person(
                organization,
                f"{local}@{DEMO_DOMAIN}",
                first,
                last,
                role,
                title,
                language,
                leaves[team_name],
            )
            if not user.has_usable_password():
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
        manager = User.objects.get(email=f"manager@{DEMO_DOMAIN}")
        departments["Sales"].managers.add(manager)

        rng = random.Random(42)  # noqa: S311  (demo names, not security)
        leaf_list = sorted(leaves.values(), key=lambda t: t.name)
        for index in range(55):
            first, last = FIRST[index % len(FIRST)], LAST[(index * 7) % len(LAST)]
            role = Role.MANAGER if index % 11 == 0 else Role.EMPLOYEE
            team = leaf_list[index % len(leaf_list)]
            user = self._person(
                organization,
                f"{first.lower()}.{last.lower()}{index}@{DEMO_DOMAIN}".replace("é", "e")
                .replace("ë", "e")
                .replace("ï", "i")
                .replace("è", "e"),
                first,
                last,
                role,
                rng.choice(TITLES),
                "fr" if index % 4 else "en",
                team,
            )
            if role == Role.MANAGER and not user.managed_teams.exists():
                team.managers.add(user)
        return organization

    def _seed_client_organization(self, home: Organization) -> None:
        """A second, small client organisation (another laboratory) and the agency person
        who runs the programmes of both, so that the switcher and the agency view have
        something to show. Content is made through the model registry: this lowest app
        does not import the content app."""
        from django.apps import apps
        from django.utils import timezone

        organization, _ = Organization.objects.get_or_create(
            slug=CLIENT_SLUG,
            defaults={
                "name": "Laboratoires Vexia",
                "default_language": "fr",
                "time_zone": "Europe/Paris",
                "brand_colour": "#7c3aed",
            },
        )
        teams = {}
        for name in ("Communication", "Affaires médicales", "Ventes"):
            teams[name], _ = Team.objects.get_or_create(
                organization=organization,
                parent=None,
                name=name,
                defaults={"kind": TeamKind.DEPARTMENT},
            )
        people = [
            ("vexia.admin", "Valérie", "Vidal", Role.ORG_ADMIN, "Communication", "fr"),
            ("vexia.comms", "Victor", "Vasseur", Role.EDITOR, "Communication", "fr"),
            ("vexia.medical", "Inès", "Vernet", Role.EMPLOYEE, "Affaires médicales", "fr"),
            ("vexia.sales", "Hugo", "Vallet", Role.EMPLOYEE, "Ventes", "en"),
            ("vexia.sales2", "Léa", "Vasseur", Role.EMPLOYEE, "Ventes", "fr"),
        ]
        for local, first, last, role, team, language in people:
            email = f"{local}@{DEMO_DOMAIN}".replace("é", "e").replace("è", "e")
            self._person(organization, email, first, last, role, "", language, teams[team])
        # The agency person: home in the agency's main client, editor there, and the
        # administrator of the second laboratory.
        agency = self._person(
            home,
            AGENCY_EMAIL,
            "Agathe",
            "Agence",
            Role.EDITOR,
            "Healthcare communication consultant",
            "fr",
            Team.objects.get(organization=home, name="Corporate communication"),
        )
        if not agency.has_usable_password():
            agency.set_password(DEMO_PASSWORD)
            agency.save(update_fields=["password"])
        Membership.objects.get_or_create(
            user=agency, organization=organization, defaults={"role": Role.ORG_ADMIN}
        )
        agency.teams.add(teams["Communication"])

        Content = apps.get_model("content", "Content")
        author = User.objects.get(email=f"vexia.comms@{DEMO_DOMAIN}")
        now = timezone.now()
        posts = [
            ("Vexia ouvre son centre de recherche à Grenoble", "approved", 3),
            ("Semaine de la pharmacovigilance : nos équipes mobilisées", "approved", 1),
            ("Nos engagements pour l’accès aux traitements", "approved", 6),
            ("Résultats de l’étude de phase II", "in_review", 0),
        ]
        for title, status, days_ago in posts:
            Content.objects.get_or_create(
                organization=organization,
                title=title,
                defaults={
                    "kind": "text",
                    "why_it_matters": "Faites connaître le travail de nos équipes.",
                    "language": "fr",
                    "status": status,
                    "publish_at": now - timedelta(days=days_ago),
                    "author": author,
                },
            )

    @staticmethod
    def _person(
        organization: Organization,
        email: str,
        first: str,
        last: str,
        role: str,
        title: str,
        language: str,
        team: Team,
    ) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=None,
                organization=organization,
                first_name=first,
                last_name=last,
                role=role,
                job_title=title,
                language=language,
            )
            user.teams.add(team)
        return user
