"""Every DynamoDB table of the product, as PynamoDB models.

Every key starts with the tenant id, so no query can cross tenants. The layout of each table and
why it looks like this is in docs/decisions/0002-data-layout.md.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.settings import get_settings
from chalicelib.store.base import share_botocore_loader

share_botocore_loader()


def _table(name: str) -> str:
    return get_settings().table(name)


class _Index(GlobalSecondaryIndex[Any]):
    """A GSI projected in full; on-demand tables need no capacity settings."""


class TenantItem(Model):
    """One tenant: its name and settings (JSON)."""

    class Meta:
        table_name = _table("tenants")
        region = get_settings().region

    tenant_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    settings = UnicodeAttribute()
    created_at = UnicodeAttribute()


class KeysByTenant(_Index):
    class Meta:
        index_name = "by_tenant"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)


class ApiKeyItem(Model):
    """An API key, found by the SHA-256 of the secret; the secret itself is never stored."""

    class Meta:
        table_name = _table("api_keys")
        region = get_settings().region

    key_hash = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    created_at = UnicodeAttribute()
    by_tenant = KeysByTenant()


class CrmByContact(_Index):
    class Meta:
        index_name = "by_contact"
        projection = AllProjection()

    contact_key = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class CrmItem(Model):
    """Every CRM object: ``pk = tenant#kind``, ``sk = id``, the fields as JSON in ``data``.

    Unique values (a contact's email, an extra field's name) are guard items in the same table:
    ``pk = tenant#kind#field``, ``sk = value``, written in the same transaction as the object.
    ``contact_key`` (``tenant#kind#contact_id``) feeds the sparse ``by_contact`` index that
    lists a contact's follow-ups, requests and sales.
    """

    class Meta:
        table_name = _table("crm")
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = UnicodeAttribute()
    version = NumberAttribute(default=1)
    contact_key = UnicodeAttribute(null=True)
    by_contact = CrmByContact()


class MembersByContact(_Index):
    class Meta:
        index_name = "by_contact"
        projection = AllProjection()

    contact_key = UnicodeAttribute(hash_key=True)
    list_id = UnicodeAttribute(range_key=True)


class MembershipItem(Model):
    """A contact in a selection or project: ``pk = tenant#list_id``, ``sk = contact_id``."""

    class Meta:
        table_name = _table("memberships")
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    contact_id = UnicodeAttribute(range_key=True)
    list_id = UnicodeAttribute()
    contact_key = UnicodeAttribute()
    added_at = UnicodeAttribute()
    by_contact = MembersByContact()


class ActivityItem(Model):
    """What the product did to or for a contact: ``pk = tenant#contact_id``, ``sk = id``."""

    class Meta:
        table_name = _table("activities")
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = UnicodeAttribute()


class FlowItem(Model):
    """A flow: its definition (JSON), status, version and generation."""

    class Meta:
        table_name = _table("flows")
        region = get_settings().region

    tenant_id = UnicodeAttribute(hash_key=True)
    flow_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    version = NumberAttribute(default=0)
    generation = NumberAttribute(default=0)
    data = UnicodeAttribute()


class FlowVersionItem(Model):
    """Every saved definition of a flow: ``pk = tenant#flow_id``, ``version``."""

    class Meta:
        table_name = _table("flow_versions")
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(range_key=True)
    data = UnicodeAttribute()
    saved_at = UnicodeAttribute()


class _KeysIndex(GlobalSecondaryIndex[Any]):
    """A GSI of the keys only: a write that keeps an item's index keys costs the index nothing
    (a step's move rewrites the participant, an index projected in full with it); readers get
    the items themselves by key (bench/README.md, "Speed-ups")."""


class ParticipantsByStatus(_KeysIndex):
    class Meta:
        index_name = "by_status"
        projection = KeysOnlyProjection()

    status_key = UnicodeAttribute(hash_key=True)
    participant_id = UnicodeAttribute(range_key=True)


class ParticipantsByContact(_KeysIndex):
    class Meta:
        index_name = "by_contact"
        projection = KeysOnlyProjection()

    contact_key = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class ParticipantsByWake(_Index):
    class Meta:
        index_name = "by_wake"
        projection = AllProjection()

    wake_bucket = UnicodeAttribute(hash_key=True)
    participant_id = UnicodeAttribute(range_key=True)


class ParticipantItem(Model):
    """One contact's walk through one flow: ``pk = tenant#flow_id``, ``participant_id``.

    ``status_key`` (``tenant#flow#status``) pages participants by status for fan-out;
    ``contact_key`` finds a contact's participations (both indexes hold the keys only);
    ``wake_bucket`` (sparse) groups waits that one Scheduler schedule wakes.
    """

    class Meta:
        table_name = _table("participants")
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    participant_id = UnicodeAttribute(range_key=True)
    contact_id = UnicodeAttribute()
    status = UnicodeAttribute()
    status_key = UnicodeAttribute()
    contact_key = UnicodeAttribute()
    step_id = UnicodeAttribute(null=True)
    seq = NumberAttribute(default=0)
    generation = NumberAttribute(default=0)
    wait_until = UnicodeAttribute(null=True)
    wake_bucket = UnicodeAttribute(null=True)
    data = UnicodeAttribute(default="{}")
    by_status = ParticipantsByStatus()
    by_contact = ParticipantsByContact()
    by_wake = ParticipantsByWake()


class ParticipantGuardItem(Model):
    """A guard in the participants table (``participant_id`` starts with ``#``), written in the
    same transaction as a participant: ``#live#<contact>`` while the contact has a queued or
    active participation of the flow, ``#once#<contact>`` for good once it had one. Also
    ``#job#<job>#<phase>#<cursor>``: a fan-out job's message that ran to its end, kept until
    ``expires_at`` (DynamoDB's TTL deletes it; docs/decisions/0014)."""

    class Meta:
        table_name = _table("participants")
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    participant_id = UnicodeAttribute(range_key=True)
    owner = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class JournalByEntered(_Index):
    class Meta:
        index_name = "by_entered"
        projection = KeysOnlyProjection()

    entered_key = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class JournalByResult(_Index):
    class Meta:
        index_name = "by_result"
        projection = KeysOnlyProjection()

    result_key = UnicodeAttribute(hash_key=True)
    result = UnicodeAttribute(range_key=True)


class JournalItem(Model):
    """One executed step of a participant: ``pk = tenant#participant_id``, ``seq``.

    Two sparse indexes count the per-step figures: ``entered_key`` (``tenant#flow#step``) is
    set on the move that put the participant on a step; ``result_key`` (the same) with
    ``result`` (``outcome#reason#participant#seq``) on the outcome of a step run.
    """

    class Meta:
        table_name = _table("journal")
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    data = UnicodeAttribute()
    entered_key = UnicodeAttribute(null=True)
    result_key = UnicodeAttribute(null=True)
    result = UnicodeAttribute(null=True)
    by_entered = JournalByEntered()
    by_result = JournalByResult()


class TriggerIndexItem(Model):
    """Which flows a trigger enrols into: ``pk = tenant#trigger_type#target``, ``flow_id``."""

    class Meta:
        table_name = _table("trigger_index")
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    flow_id = UnicodeAttribute(range_key=True)


class EngagementItem(Model):
    """A contact's clicks, opens and form submissions: ``pk = tenant#contact_id``, ``sk``."""

    class Meta:
        table_name = _table("engagement")
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = UnicodeAttribute()


ALL_MODELS: tuple[type[Model], ...] = (
    TenantItem,
    ApiKeyItem,
    CrmItem,
    MembershipItem,
    ActivityItem,
    FlowItem,
    FlowVersionItem,
    ParticipantItem,
    JournalItem,
    TriggerIndexItem,
    EngagementItem,
)


def ttl_attribute(table_name: str) -> str | None:
    """The TTL attribute of a table: the one a model of it (any of them: several share the
    participants and CRM tables) declares as a ``TTLAttribute``, if any."""
    found: set[str] = set()
    pending: list[type[Model]] = list(Model.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        meta = getattr(model, "Meta", None)
        if getattr(meta, "table_name", None) != table_name:
            continue
        found.update(
            a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)
        )
    if len(found) > 1:
        raise RuntimeError(f"{table_name}: one TTL attribute a table, not {sorted(found)}")
    return next(iter(found), None)
