"""Each organisation's single-step policy becomes its default approval chain: one step
"Review" needing the policy's number of approvals (1 where it had no policy). Content in
review moves to that step, its approvals of the current version counted there: nothing
changes for anyone."""

from __future__ import annotations

from django.db import migrations
from django.utils import timezone

NAMES = {"fr": ("Circuit standard", "Validation"), "en": ("Standard", "Review")}


def forward(apps, schema_editor):
    Organization = apps.get_model("organizations", "Organization")
    ContentPolicy = apps.get_model("content", "ContentPolicy")
    ApprovalChain = apps.get_model("content", "ApprovalChain")
    ApprovalStep = apps.get_model("content", "ApprovalStep")
    Content = apps.get_model("content", "Content")
    Review = apps.get_model("content", "Review")
    required_by_org = dict(
        ContentPolicy.objects.values_list("organization_id", "required_approvals")
    )
    now = timezone.now()
    for organization in Organization.objects.all().iterator():
        if ApprovalChain.objects.filter(organization=organization, is_default=True).exists():
            continue
        chain_name, step_name = NAMES.get(organization.default_language, NAMES["en"])
        chain = ApprovalChain.objects.create(
            organization=organization, name=chain_name, is_default=True
        )
        step = ApprovalStep.objects.create(
            chain=chain,
            position=1,
            name=step_name,
            required_approvals=max(1, required_by_org.get(organization.pk) or 1),
        )
        for content in Content.objects.filter(organization=organization, status="in_review"):
            content.approval_chain = chain
            content.approval_step = step
            content.step_entered_at = now
            content.save(update_fields=["approval_chain", "approval_step", "step_entered_at"])
            Review.objects.filter(content=content, version=content.version).update(
                step=step, step_name=step_name
            )


def backward(apps, schema_editor):
    ContentPolicy = apps.get_model("content", "ContentPolicy")
    ApprovalStep = apps.get_model("content", "ApprovalStep")
    for step in ApprovalStep.objects.filter(chain__is_default=True, position=1):
        ContentPolicy.objects.update_or_create(
            organization_id=step.chain.organization_id,
            defaults={"required_approvals": step.required_approvals},
        )


class Migration(migrations.Migration):
    dependencies = [("content", "0005_approval_chains")]

    operations = [migrations.RunPython(forward, backward)]
