"""The teams endpoints, for the owner, the teammate and a stranger."""

from django.test import Client

from studio.teams.models import Agent, Team


def test_owner_lists_creates_and_reads_teams(
    owner_client: Client, writer: Agent, critic: Agent
) -> None:
    response = owner_client.post(
        "/api/teams",
        {
            "name": "Pair",
            "participants": [writer.pk, critic.pk],
            "termination": {"type": "max_messages", "max_messages": 4},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == 1
    assert [agent["name"] for agent in body["spec"]["participants"]] == ["writer", "critic"]
    listed = owner_client.get("/api/teams").json()
    assert [team["name"] for team in listed] == ["Pair"]


def test_teammate_sees_and_edits_a_shared_team(teammate_client: Client, team: Team) -> None:
    assert teammate_client.get(f"/api/teams/{team.pk}").status_code == 200
    response = teammate_client.put(
        f"/api/teams/{team.pk}", {"max_turns": 3}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_teammate_cannot_delete_a_shared_team(teammate_client: Client, team: Team) -> None:
    assert teammate_client.delete(f"/api/teams/{team.pk}").status_code == 403
    assert Team.objects.filter(pk=team.pk).exists()


def test_stranger_gets_404_on_every_team_endpoint(stranger_client: Client, team: Team) -> None:
    base = f"/api/teams/{team.pk}"
    calls = [
        ("get", base),
        ("put", base),
        ("delete", base),
        ("post", f"{base}/validate"),
        ("post", f"{base}/duplicate"),
        ("get", f"{base}/export"),
        ("get", f"{base}/versions"),
        ("get", f"{base}/versions/1"),
        ("get", f"{base}/versions/1/diff"),
        ("post", f"{base}/versions/1/restore"),
        ("get", f"{base}/shares"),
        ("post", f"{base}/shares"),
    ]
    for method, url in calls:
        response = getattr(stranger_client, method)(url, {}, content_type="application/json")
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["message"] == "Not found."
    assert stranger_client.get("/api/teams").json() == []


def test_anonymous_requests_get_401(anonymous_client: Client, team: Team) -> None:
    response = anonymous_client.get(f"/api/teams/{team.pk}")
    assert response.status_code == 401
    assert "Bearer" in response.json()["message"]


def test_viewer_cannot_change_a_team(owner_client: Client, stranger, stranger_client, team) -> None:
    team.share_with(user=stranger, role="viewer")
    assert stranger_client.get(f"/api/teams/{team.pk}").status_code == 200
    response = stranger_client.put(
        f"/api/teams/{team.pk}", {"name": "Mine now"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_group_share_gives_access_to_group_members(stranger, stranger_client, team) -> None:
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="reviewers")
    stranger.groups.add(group)
    assert stranger_client.get(f"/api/teams/{team.pk}").status_code == 404
    team.share_with(group=group, role="viewer")
    assert stranger_client.get(f"/api/teams/{team.pk}").status_code == 200


def test_owner_shares_through_the_api(owner_client: Client, stranger_client, team) -> None:
    response = owner_client.post(
        f"/api/teams/{team.pk}/shares",
        {"user": "sam", "role": "viewer"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert stranger_client.get(f"/api/teams/{team.pk}").status_code == 200
    share_id = response.json()["id"]
    assert owner_client.delete(f"/api/teams/{team.pk}/shares/{share_id}").status_code == 204
    assert stranger_client.get(f"/api/teams/{team.pk}").status_code == 404


def test_saving_an_unchanged_team_keeps_its_version(owner_client: Client, team: Team) -> None:
    response = owner_client.put(
        f"/api/teams/{team.pk}", {"name": "Drafting"}, content_type="application/json"
    )
    assert response.json()["version"] == 1


def test_versions_list_diff_and_restore(owner_client: Client, team: Team) -> None:
    owner_client.put(f"/api/teams/{team.pk}", {"max_turns": 9}, content_type="application/json")
    versions = owner_client.get(f"/api/teams/{team.pk}/versions").json()
    assert [version["number"] for version in versions] == [2, 1]
    diff = owner_client.get(f"/api/teams/{team.pk}/versions/2/diff").json()
    assert diff["changes"] == [{"path": "max_turns", "old": None, "new": 9}]
    restored = owner_client.post(f"/api/teams/{team.pk}/versions/1/restore").json()
    assert restored["max_turns"] is None
    assert restored["version"] == 3
    versions = owner_client.get(f"/api/teams/{team.pk}/versions").json()
    assert versions[0]["note"] == "Restored from version 1"


def test_unknown_participant_id_is_reported_with_its_path(
    owner_client: Client, stranger, writer: Agent
) -> None:
    from studio.teams import services

    foreign = services.save_agent(stranger, {"name": "spy"})
    response = owner_client.post(
        "/api/teams",
        {"name": "Bad", "participants": [writer.pk, foreign.pk]},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "participants[1]"


def test_request_body_errors_carry_field_paths(owner_client: Client) -> None:
    response = owner_client.post(
        "/api/teams",
        {"name": "", "kind": "circle", "graph_edges": [{"source": "a"}]},
        content_type="application/json",
    )
    assert response.status_code == 422
    paths = {error["path"] for error in response.json()["errors"]}
    assert {"name", "kind", "graph_edges[0].target"} <= paths


def test_duplicate_copies_a_team_into_the_callers_account(
    stranger, stranger_client: Client, team: Team
) -> None:
    team.share_with(user=stranger, role="viewer")
    response = stranger_client.post(f"/api/teams/{team.pk}/duplicate")
    assert response.status_code == 201
    copy = Team.objects.get(pk=response.json()["id"])
    assert copy.owner == stranger
    assert [agent.owner for agent in copy.ordered_members()] == [stranger, stranger]


def test_deleting_a_model_in_use_answers_409(owner_client: Client, writer: Agent) -> None:
    response = owner_client.delete(f"/api/models/{writer.model_id}")
    assert response.status_code == 409
    assert "still used" in response.json()["message"]
