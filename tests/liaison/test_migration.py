"""liaison 0003: what the foundation kept undated becomes dated pairings."""

import pytest
from django.db import connection


@pytest.mark.django_db(transaction=True)
def test_group_compounds_and_cadre_grants_of_team_members_become_pairings_from_the_day_they_were_recorded():
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("liaison", "0002_safe_text"), ("liaison", "0003_pairing")
    executor = MigrationExecutor(connection)
    # The other apps stay at their latest state (the tables are there); liaison goes back to 0002.
    others = [key for key in executor.loader.graph.leaf_nodes() if key[0] != "liaison"]
    executor.migrate([before])
    old = executor.loader.project_state([*others, before]).apps
    node, user = old.get_model("grid", "OrgNode"), old.get_model("accounts", "User")
    grant, team_model = old.get_model("accounts", "RoleGrant"), old.get_model("liaison", "WorkTeam")
    group_model, membership = old.get_model("liaison", "WorkGroup"), old.get_model("liaison", "WorkGroupMembership")
    community = node.objects.create(name="北苑社区", kind="community", lft=1, rght=6, tree_id=1, level=0)
    compound = node.objects.create(
        name="阳光小区党支部", kind="compound", parent=community, lft=2, rght=5, tree_id=1, level=1
    )
    building = node.objects.create(
        name="1号楼党小组", kind="building", parent=compound, lft=3, rght=4, tree_id=1, level=2
    )
    elsewhere = node.objects.create(name="南湖社区", kind="community", lft=1, rght=2, tree_id=2, level=0)
    member, loner, outsider = (user.objects.create(username=name) for name in ("member", "loner", "outsider"))
    team = team_model.objects.create(bureau_name="市住建局", name="筑堡工作队", community=community)
    group = group_model.objects.create(team=team, name="第一工作组", compound=compound)
    membership.objects.create(group=group, cadre=member, joined_on="2026-03-01")
    membership.objects.create(group=group, cadre=outsider, joined_on="2026-03-01")
    kept = grant.objects.create(user=member, role="cadre", org_node=building)
    grant.objects.create(user=loner, role="cadre", org_node=building)  # in no work group: stays a role grant
    grant.objects.create(user=outsider, role="cadre", org_node=elsewhere)  # a community, another one: stays

    executor = MigrationExecutor(connection)
    executor.migrate([after])
    new = executor.loader.project_state([*others, after]).apps
    pairings = new.get_model("liaison", "Pairing").objects.order_by("tier")
    assert [(p.tier, p.work_group_id, p.cadre_id, p.node_id) for p in pairings] == [
        ("cadre", group.pk, member.pk, building.pk),
        ("compound", group.pk, None, compound.pk),
    ]
    cadre_pairing = pairings.get(tier="cadre")
    assert str(cadre_pairing.starts_on) >= "2026-03-01" and cadre_pairing.ends_on is None
    grants = new.get_model("accounts", "RoleGrant").objects
    assert grants.get(pk=kept.pk).revoked_at is not None
    assert grants.filter(revoked_at=None).count() == 2

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
