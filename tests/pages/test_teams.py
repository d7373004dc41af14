import pytest
from django.urls import reverse

from services.models import Membership, Role, Team
from tests.helpers import logged_in, make_user


def role_of(team, user):
    return Membership.objects.get(team=team, user=user).role


def test_the_team_list_shows_my_teams_and_my_role(acme, globex, bob):
    response = logged_in(bob).get(reverse("team_list"))
    assert [(team.slug, role) for team, role in response.context["rows"]] == [("acme", "member")]


def test_a_superuser_creates_a_team_and_becomes_its_maintainer(root):
    response = logged_in(root).post(reverse("team_create"), {"name": "Ops", "slug": "ops"})
    assert response.status_code == 302
    assert role_of(Team.objects.get(slug="ops"), root) == Role.MAINTAINER


def test_others_cannot_create_teams(alice):
    response = logged_in(alice).post(reverse("team_create"), {"name": "Ops", "slug": "ops"})
    assert response.status_code == 403
    assert "Only administrators can create teams" in response.text
    assert not Team.objects.filter(slug="ops").exists()


def test_the_team_page_lists_members_and_roles(acme, bob):
    response = logged_in(bob).get(reverse("team_detail", args=["acme"]))
    assert response.status_code == 200
    assert "alice" in response.text and "Maintainer".lower() in response.text.lower()
    assert response.context["member_form"] is None  # members see no management form


def test_a_maintainer_adds_a_member(acme, alice):
    dave = make_user("dave")
    response = logged_in(alice).post(reverse("team_member_add", args=["acme"]),
                                     {"username": "dave", "role": "member"})
    assert response.status_code == 302
    assert role_of(acme, dave) == Role.MEMBER


def test_adding_an_unknown_user_says_so(acme, alice):
    response = logged_in(alice).post(reverse("team_member_add", args=["acme"]),
                                     {"username": "nobody", "role": "member"}, follow=True)
    assert "There is no user named “nobody”." in response.text


def test_a_maintainer_changes_a_role(acme, alice, bob):
    logged_in(alice).post(reverse("team_member_role", args=["acme", "bob"]),
                          {"role": "maintainer"})
    assert role_of(acme, bob) == Role.MAINTAINER


def test_a_maintainer_removes_a_member(acme, alice, bob):
    logged_in(alice).post(reverse("team_member_remove", args=["acme", "bob"]))
    assert not Membership.objects.filter(team=acme, user=bob).exists()


def test_the_last_maintainer_stays(acme, alice):
    client = logged_in(alice)
    response = client.post(reverse("team_member_role", args=["acme", "alice"]),
                           {"role": "member"}, follow=True)
    assert "at least one maintainer" in response.text
    client.post(reverse("team_member_remove", args=["acme", "alice"]))
    assert role_of(acme, alice) == Role.MAINTAINER


@pytest.mark.parametrize("name, args, data", [
    ("team_member_add", ["acme"], {"username": "charlie", "role": "maintainer"}),
    ("team_member_role", ["acme", "bob"], {"role": "maintainer"}),
    ("team_member_remove", ["acme", "alice"], {}),
])
def test_a_member_gets_403_for_team_management(acme, bob, charlie, name, args, data):
    response = logged_in(bob).post(reverse(name, args=args), data)
    assert response.status_code == 403
    assert "Only maintainers of the team" in response.text
    assert role_of(acme, bob) == Role.MEMBER
    assert acme.memberships.count() == 2


@pytest.mark.parametrize("name, args", [
    ("team_detail", ["acme"]),
    ("team_member_add", ["acme"]),
    ("team_member_role", ["acme", "bob"]),
    ("team_member_remove", ["acme", "bob"]),
])
def test_outsiders_get_404_for_other_teams(acme, globex, charlie, name, args):
    client = logged_in(charlie)
    response = client.get(reverse(name, args=args)) if name == "team_detail" else client.post(
        reverse(name, args=args), {"username": "charlie", "role": "maintainer"})
    assert response.status_code == 404
    assert acme.memberships.count() == 2
