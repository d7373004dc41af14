import pytest
from django.urls import reverse

from services.models import Service
from tests.helpers import EAS_PUBLIC, EAS_VPC, TOKEN, logged_in, make_service, make_superuser


def form_data(team, **overrides):
    data = {
        "name": "Reranker", "slug": "reranker", "team": team.pk, "kind": "model_gallery",
        "gateway": "dedicated", "public_endpoint": EAS_PUBLIC.replace("chat", "reranker"),
        "vpc_endpoint": "", "default_endpoint": "public", "region": "", "description": "",
        "default_method": "POST", "default_path": "/", "default_body": "", "timeout_s": "60",
        "token": "rerank-token-abcd",
    }
    data.update(overrides)
    return data


def edit_data(service, **overrides):
    data = {field: getattr(service, field) for field in (
        "name", "slug", "kind", "gateway", "public_endpoint", "vpc_endpoint", "default_endpoint",
        "region", "description", "default_method", "default_path", "default_body", "timeout_s")}
    data.update(team=service.team.pk, token="")
    data.update(overrides)
    return data


def test_the_list_shows_the_services_of_my_teams_only(service, globex, bob):
    make_service(globex, slug="globex-chat", name="Globex Chat")
    response = logged_in(bob).get(reverse("service_list"))
    assert response.status_code == 200
    assert "Chat" in response.text
    assert "globex-chat" not in response.text


@pytest.mark.parametrize("query, shown, hidden", [
    ({"q": "rerank"}, "reranker", "chat"),
    ({"kind": "llm"}, "chat", "reranker"),
    ({"gateway": "dedicated"}, "reranker", "chat"),
    ({"team": "acme"}, "chat", "globex-chat"),
])
def test_the_list_searches_and_filters(service, acme, globex, alice, query, shown,
                                       hidden):
    make_service(acme, slug="reranker", name="Reranker", kind="model_gallery", gateway="dedicated")
    make_service(globex, slug="globex-chat", name="Globex")
    globex.memberships.create(user=alice, role="member")
    response = logged_in(alice).get(reverse("service_list"), query)
    slugs = [s.slug for s in response.context["services"]]
    assert shown in slugs
    assert hidden not in slugs


def test_a_maintainer_creates_a_service(acme, alice):
    response = logged_in(alice).post(reverse("service_create"), form_data(acme))
    assert response.status_code == 302
    service = Service.objects.get(slug="reranker")
    assert service.read_token() == "rerank-token-abcd"
    assert service.token_hint == "abcd"
    assert service.region == "cn-hangzhou"
    assert service.created_by == alice and service.updated_by == alice


@pytest.mark.parametrize("overrides, field, message", [
    ({"token": ""}, "token", "This field is required."),
    ({"public_endpoint": "", "vpc_endpoint": ""}, "public_endpoint", "Enter a public endpoint"),
    ({"slug": "chat"}, "slug", "A service with this slug already exists."),
    ({"slug": "new"}, "slug", "reserved"),
    ({"public_endpoint": "ftp://1.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/x"},
     "public_endpoint", "http"),
    ({"public_endpoint": "http://evil.example.com/api/predict/x"}, "public_endpoint",
     "not allowed"),
    ({"public_endpoint": "http://169.254.169.254/latest/meta-data"}, "public_endpoint", ""),
    ({"public_endpoint": "http://100.100.100.200/latest/meta-data"}, "public_endpoint", ""),
    ({"public_endpoint": "http://user:pw@1.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/x"},
     "public_endpoint", ""),
    ({"default_path": "//evil.example.com/x"}, "default_path", ""),
    ({"timeout_s": "0"}, "timeout_s", ""),
    ({"token": "line\nbreak"}, "token", "line breaks"),
])
def test_bad_input_gets_a_form_error(service, acme, alice, overrides, field, message):
    response = logged_in(alice).post(reverse("service_create"), form_data(acme, **overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert not Service.objects.filter(slug="reranker").exists()


def test_editing_with_a_blank_token_keeps_the_token(service, alice):
    response = logged_in(alice).post(reverse("service_edit", args=["chat"]),
                                     edit_data(service, name="Chat v2"))
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.name == "Chat v2"
    assert service.read_token() == TOKEN


def test_editing_with_a_new_token_replaces_it(service, alice):
    logged_in(alice).post(reverse("service_edit", args=["chat"]),
                          edit_data(service, token="replacement-token-WXYZ"))
    service.refresh_from_db()
    assert service.read_token() == "replacement-token-WXYZ"
    assert service.token_hint == "WXYZ"


def test_a_maintainer_deletes_a_service(service, alice):
    response = logged_in(alice).post(reverse("service_delete", args=["chat"]))
    assert response.status_code == 302
    assert not Service.objects.filter(slug="chat").exists()


@pytest.mark.parametrize("name, method", [
    ("service_detail", "get"), ("service_edit", "get"), ("service_edit", "post"),
    ("service_delete", "get"), ("service_delete", "post"),
])
def test_other_teams_services_answer_404(service, globex, charlie, name, method):
    response = getattr(logged_in(charlie), method)(reverse(name, args=[service.slug]))
    assert response.status_code == 404
    assert Service.objects.filter(slug="chat").exists()


@pytest.mark.parametrize("name, method", [
    ("service_edit", "get"), ("service_edit", "post"),
    ("service_delete", "get"), ("service_delete", "post"),
])
def test_a_member_gets_403_with_a_message_for_maintainer_actions(service, bob, name,
                                                                  method):
    response = getattr(logged_in(bob), method)(reverse(name, args=[service.slug]))
    assert response.status_code == 403
    assert "Only maintainers of the team" in response.text
    assert Service.objects.filter(slug="chat", name="Chat").exists()


def test_a_member_cannot_create_a_service(service, bob):
    response = logged_in(bob).post(reverse("service_create"), form_data(service.team))
    assert response.status_code == 403
    assert "you maintain no team" in response.text


def test_a_maintainer_cannot_move_a_service_into_a_team_they_do_not_maintain(
        service, globex, alice):
    response = logged_in(alice).post(reverse("service_edit", args=["chat"]),
                                     edit_data(service, team=globex.pk))
    assert "team" in response.context["form"].errors
    service.refresh_from_db()
    assert service.team.slug == "acme"


def test_the_detail_page_warns_about_a_vpc_address_entered_as_public(acme, alice):
    make_service(acme, slug="mixed", public_endpoint=EAS_VPC, vpc_endpoint="")
    response = logged_in(alice).get(reverse("service_detail", args=["mixed"]))
    assert "VPC" in " ".join(response.context["warnings"])


def test_the_detail_page_warns_about_an_eas_host_without_a_predict_path(acme, alice):
    make_service(acme, slug="bare", public_endpoint="http://1.cn-shanghai.pai-eas.aliyuncs.com",
                 vpc_endpoint="")
    response = logged_in(alice).get(reverse("service_detail", args=["bare"]))
    assert "/api/predict/" in " ".join(response.context["warnings"])


def test_the_detail_page_and_the_form_explain_gateways_and_addresses(service, alice):
    client = logged_in(alice)
    for url in (reverse("service_detail", args=["chat"]), reverse("service_create")):
        text = client.get(url).text
        assert "Dedicated gateway" in text and "VPC address" in text and "1 MB" in text


def test_the_token_is_on_no_page(service, alice):
    superuser = make_superuser("root")
    client = logged_in(alice)
    pages = [
        reverse("service_list"), reverse("service_detail", args=["chat"]),
        reverse("service_edit", args=["chat"]), reverse("service_delete", args=["chat"]),
        reverse("team_list"), reverse("team_detail", args=["acme"]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert TOKEN not in response.text, url
    assert "••••" + service.token_hint in client.get(reverse("service_detail", args=["chat"])).text
    # A failed edit must not echo a newly typed token back into the form either.
    response = client.post(reverse("service_edit", args=["chat"]),
                           edit_data(service, public_endpoint="ftp://x", token="typed-" + TOKEN))
    assert response.status_code == 200 and TOKEN not in response.text
    admin = logged_in(superuser)
    for url in (reverse("admin:services_service_changelist"),
                reverse("admin:services_service_change", args=[service.pk])):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert TOKEN not in response.text and service.token_encrypted not in response.text, url


def test_a_superuser_without_teams_is_sent_to_create_one(root):
    response = logged_in(root).get(reverse("service_create"))
    assert response.status_code == 302
    assert response["Location"] == reverse("team_create")
