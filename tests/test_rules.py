"""The fast tier: the pure rules, with no database and no platform (milliseconds each)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from handlers import authority, workflow
from handlers.commands import spoken
from handlers.types import Capabilities
from storage.models import Ticket

NOW = datetime(2026, 12, 1, 9, 0)
TELEGRAM = Capabilities(slash_commands=True, buttons=True, edits=True, captions=True)
WECHAT = Capabilities()


def ticket(status: str = workflow.NEW, tier: int = 0, **kw) -> Ticket:
    values = dict(
        id=17, chat_pk=1, reporter_pk=5, category="manhole", lat=31.4, lon=121.5,
        source_message_id="m1", created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    return Ticket(**{**values, **kw}, status=status, tier=tier)


# Who may act: one rule.


def test_a_secretary_role_makes_a_secretary_and_nothing_more():
    caps = authority.grant({"secretary"}, configured_admin=False, chat_admin_here=False)
    assert caps == {authority.SECRETARY}


def test_an_admin_holds_every_capacity():
    for caps in (
        authority.grant(set(), configured_admin=True, chat_admin_here=False),
        authority.grant({"admin"}, configured_admin=False, chat_admin_here=False),
    ):
        assert caps == {
            authority.ADMIN,
            authority.SECRETARY,
            authority.OFFICIAL,
            authority.MERCHANT,
        }


def test_a_groups_own_admin_runs_that_group_only():
    assert authority.grant(set(), configured_admin=False, chat_admin_here=True) == {"secretary"}
    assert authority.grant(set(), configured_admin=False, chat_admin_here=False) == set()


def test_a_merchant_confirms_codes_but_runs_no_tickets():
    caps = authority.grant({"merchant"}, configured_admin=False, chat_admin_here=False)
    assert caps == {authority.MERCHANT}


def test_unknown_roles_grant_nothing():
    assert authority.grant({"rider", "vip"}, configured_admin=False, chat_admin_here=False) == set()


# The one transition.


def test_accepting_a_new_ticket_moves_it_and_writes_its_audit_row():
    t = ticket()
    decision, event = workflow.apply(t, "accept", {workflow.SECRETARY}, now=NOW, actor_pk=9)
    assert decision.ok and t.status == workflow.ACCEPTED and t.accepted_at == NOW
    assert (event.action, event.from_status, event.to_status, event.actor_pk) == (
        "accept", "new", "accepted", 9,
    )  # fmt: skip


def test_a_refused_action_changes_nothing_and_writes_no_row():
    t = ticket()
    decision, event = workflow.apply(t, "accept", {workflow.REPORTER}, now=NOW, actor_pk=5)
    assert not decision.ok and decision.refusal == "workflow.not_allowed"
    assert event is None and t.status == workflow.NEW and t.accepted_at is None


def test_a_rejection_needs_a_reason():
    t = ticket()
    decision, event = workflow.apply(t, "reject", {workflow.SECRETARY}, now=NOW, actor_pk=9)
    assert decision.refusal == "workflow.reason_required" and event is None
    decision, event = workflow.apply(
        t, "reject", {workflow.SECRETARY}, now=NOW, actor_pk=9, note="不是公共区域"
    )
    assert t.status == workflow.REJECTED and t.closed_at == NOW and event.note == "不是公共区域"


def test_the_first_whistle_dispatches_to_the_operations_centre_then_each_raises_a_tier():
    t = ticket(workflow.ACCEPTED)
    workflow.apply(t, "dispatch", {workflow.SYSTEM}, now=NOW, actor_pk=None)
    assert (t.status, t.tier, t.department) == (workflow.DISPATCHED, 1, "城运中心")
    for tier in (2, 3):
        _, event = workflow.apply(t, "escalate", {workflow.SYSTEM}, now=NOW, actor_pk=None)
        assert t.tier == tier and event.tier == tier and event.department == "城运中心"
    decision, event = workflow.apply(t, "escalate", {workflow.SYSTEM}, now=NOW, actor_pk=None)
    assert decision.refusal == "workflow.max_tier" and event is None and t.tier == 3


def test_a_reporter_may_reopen_only_within_the_window():
    t = ticket(workflow.RESOLVED, resolved_at=NOW - timedelta(days=8))
    decision, _ = workflow.apply(t, "reopen", {workflow.REPORTER}, now=NOW, actor_pk=5)
    assert decision.refusal == "workflow.reopen_expired" and t.status == workflow.RESOLVED
    t.resolved_at = NOW - timedelta(days=2)
    decision, _ = workflow.apply(t, "reopen", {workflow.REPORTER}, now=NOW, actor_pk=5)
    assert decision.ok and t.status == workflow.ACCEPTED and t.resolved_at is None


def test_merging_points_at_the_original_and_closes():
    t = ticket()
    workflow.apply(t, "dup", {workflow.SECRETARY}, now=NOW, actor_pk=9, target=3)
    assert (t.status, t.duplicate_of, t.closed_at) == (workflow.DUPLICATE, 3, NOW)


@pytest.mark.parametrize("status", [workflow.CLOSED, workflow.REJECTED, workflow.DUPLICATE])
def test_a_finished_ticket_takes_no_secretary_action(status):
    for action in ("accept", "dispatch", "escalate", "resolve", "reopen", "close"):
        decision, event = workflow.apply(
            ticket(status), action, {workflow.SECRETARY}, now=NOW, actor_pk=9, note="x"
        )
        assert not decision.ok and event is None


# Words people type, by what their platform can do.


def test_usage_hints_use_slash_commands_only_where_the_platform_has_them():
    assert spoken("accept", TELEGRAM) == "/accept"
    assert spoken("accept", WECHAT) == "受理"
    assert spoken("confirm", WECHAT) == "核销"
    assert spoken("redeem", WECHAT) == "兑换"


def test_the_bot_merges_a_report_into_its_problem_and_a_secretary_splits_it_back():
    t = ticket()
    _, event = workflow.apply(t, "dup", {workflow.SYSTEM}, now=NOW, actor_pk=None, target=3)
    assert (t.status, t.duplicate_of, event.action, event.actor_pk) == ("duplicate", 3, "dup", None)
    decision, _ = workflow.apply(t, "split", {workflow.REPORTER}, now=NOW, actor_pk=5)
    assert decision.refusal == "workflow.not_allowed" and t.status == workflow.DUPLICATE
    _, event = workflow.apply(t, "split", {workflow.SECRETARY}, now=NOW, actor_pk=9, note="#3")
    assert (t.status, t.duplicate_of, t.closed_at) == (workflow.NEW, None, None)
    assert (event.from_status, event.to_status, event.note) == ("duplicate", "new", "#3")
