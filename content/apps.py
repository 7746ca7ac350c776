from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "content"
    verbose_name = _("Content library")

    def ready(self) -> None:
        from notifications.kinds import kind_register
        from organizations.navigation import nav_register
        from organizations.signals import demo_seeded

        kind_register("content.review_requested", _("Content waits for my review"))
        kind_register("content.decision", _("A reviewer decides on my content"))
        kind_register("content.step_overdue", _("A review step is past its deadline"))
        kind_register("content.suggestion_decided", _("My suggestion is accepted or declined"))
        from content.announce import kind_register_published

        kind_register_published()
        from content.services import compliance_rules_watch

        compliance_rules_watch()
        from content.feed_cache import feed_cache_watch

        feed_cache_watch()

        from content.agency import register as agency_register

        agency_register()
        nav_register(url_name="feed", label=_("Feed"), order=10)
        nav_register(url_name="suggestions", label=_("Suggest"), order=45)
        nav_register(url_name="guidelines", label=_("Guidelines"), order=50)
        nav_register(
            url_name="library",
            label=_("Library"),
            order=60,
            visible=lambda user: user.can_edit_content,
        )
        nav_register(
            url_name="review_queue",
            label=_("Review"),
            order=70,
            visible=lambda user: user.can_review,
        )

        from content.models import Content, ImageRendition, Lifecycle
        from content.selectors import content_visible
        from organizations.media import media_register

        # A post's image and renditions: drafts, reviews and withdrawn posts for the comms
        # team only, published posts for their audience, and (signed URL) for anyone.
        media_register(
            folder="content",
            model=Content,
            field="image",
            organization_id=lambda content: content.organization_id,
            can_view=lambda viewer, content: content_visible(viewer, content.pk),
            public_when_signed=lambda content: content.lifecycle == Lifecycle.PUBLISHED,
        )
        # The link preview's image (stored for the thumbnail of article posts): as the post.
        media_register(
            folder="content/previews",
            model=Content,
            field="preview_image",
            organization_id=lambda content: content.organization_id,
            can_view=lambda viewer, content: content_visible(viewer, content.pk),
            public_when_signed=lambda content: content.lifecycle == Lifecycle.PUBLISHED,
        )
        media_register(
            folder="content/renditions",
            model=ImageRendition,
            field="file",
            organization_id=lambda rendition: rendition.content.organization_id,
            can_view=lambda viewer, rendition: content_visible(viewer, rendition.content_id),
            public_when_signed=lambda rendition: rendition.content.lifecycle == Lifecycle.PUBLISHED,
            select_related=("content",),
        )

        from content.audit_sentences import register as audit_sentences_register

        audit_sentences_register()

        from content.demo import seed_demo_content

        demo_seeded.connect(seed_demo_content, dispatch_uid="content-demo")
