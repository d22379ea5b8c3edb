"""Sign-in, sign-out, CSRF, cookies and the headers of every page, without a browser."""

from __future__ import annotations

import httpx

from tests.harness import Harness
from tests.web.helpers import csrf_of, sign_in
from waybill.auth import tokens
from waybill.web.security import CONTENT_SECURITY_POLICY

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


async def test_pages_send_a_strict_content_security_policy_and_safety_headers(api: Harness) -> None:
    await api.user("alice")
    await sign_in(api, await api.token("alice"))
    for path in ("/ui", "/ui/sign-in", "/ui/no-such-page", "/ui/static/app.css"):
        response = await api.get(path)
        assert response.headers["content-security-policy"] == CSP, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path
        assert response.headers["x-frame-options"] == "DENY", path
    assert CONTENT_SECURITY_POLICY == CSP


async def test_pages_load_no_inline_script(api: Harness) -> None:
    await api.user("alice")
    await sign_in(api, await api.token("alice"))
    page = (await api.get("/ui")).text
    assert "<script>" not in page
    assert '<script src="/ui/static/app.js?v=' in page
    assert " on" + "click=" not in page


async def test_sign_in_sets_an_http_only_same_site_cookie_hiding_the_token(
    api: Harness,
) -> None:
    await api.user("alice")
    token = await api.token("alice")
    response = await sign_in(api, token, next_url="/ui")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui"
    cookie = _set_cookies(response)["waybill_session"]
    attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/ui" in attributes
    assert "secure" not in attributes
    assert token not in cookie
    home = await api.get("/ui")
    assert home.status_code == 200
    assert "Signed in as <strong>alice</strong>" in home.text
    assert token not in home.text


async def test_the_cookie_is_secure_when_served_over_https(api: Harness) -> None:
    await api.user("alice")
    token = await api.token("alice")
    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://waybill.test") as client:
        form = await client.get("/ui/sign-in")
        assert "secure" in _set_cookies(form)["waybill_presession"].lower()
        response = await client.post("/ui/sign-in", data={"csrf": csrf_of(form), "token": token})
    cookie = _set_cookies(response)["waybill_session"]
    assert "secure" in [part.strip().lower() for part in cookie.split(";")[1:]]


async def test_pages_need_a_session_and_come_back_after_sign_in(api: Harness) -> None:
    await api.user("alice")
    response = await api.get("/ui?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/sign-in?next=%2Fui%3Fx%3D1"
    signed = await sign_in(api, await api.token("alice"), next_url="/ui?x=1")
    assert signed.headers["location"] == "/ui?x=1"


async def test_sign_in_never_redirects_off_the_pages(api: Harness) -> None:
    await api.user("alice")
    token = await api.token("alice")
    for target in ("//evil.example/ui", "https://evil.example/", "/user", "/uix", "/ui\\evil"):
        api.client.cookies.clear()
        response = await sign_in(api, token, next_url=target)
        assert response.headers["location"] == "/ui", target


async def test_a_bad_token_is_refused_with_the_form_again(api: Harness) -> None:
    await api.user("alice")
    response = await sign_in(api, "wbp_not-a-token")
    assert response.status_code == 401
    assert "That token is not valid." in response.text
    assert "wbp_not-a-token" not in response.text
    assert "waybill_session" not in _set_cookies(response)


async def test_sign_in_without_a_csrf_token_is_rejected(api: Harness) -> None:
    await api.user("alice")
    token = await api.token("alice")
    await api.get("/ui/sign-in")
    response = await api.post("/ui/sign-in", data={"token": token})
    assert response.status_code == 403
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "CSRF token is missing, invalid or expired" in response.text
    assert "waybill_session" not in _set_cookies(response)


async def test_a_csrf_token_of_another_browser_is_rejected(api: Harness) -> None:
    await api.user("alice")
    token = await api.token("alice")
    other = csrf_of(await api.get("/ui/sign-in"))
    api.client.cookies.clear()
    await api.get("/ui/sign-in")  # this browser's own pre-session value, not the one ``other`` is bound to
    response = await api.post("/ui/sign-in", data={"csrf": other, "token": token})
    assert response.status_code == 403


async def test_sign_out_without_a_csrf_token_is_rejected_and_keeps_the_session(api: Harness) -> None:
    await api.user("alice")
    await sign_in(api, await api.token("alice"))
    response = await api.post("/ui/sign-out", data={})
    assert response.status_code == 403
    assert (await api.get("/ui")).status_code == 200


async def test_sign_out_ends_the_session(api: Harness) -> None:
    await api.user("alice")
    await sign_in(api, await api.token("alice"))
    home = await api.get("/ui")
    response = await api.post("/ui/sign-out", data={"csrf": csrf_of(home)})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/sign-in"
    assert "max-age=0" in _set_cookies(response)["waybill_session"].lower()
    assert (await api.get("/ui")).status_code == 303


async def test_a_revoked_token_ends_its_sessions(api: Harness) -> None:
    await api.user("alice")
    token = await api.token("alice")
    await sign_in(api, token)
    await api.tx(lambda c: tokens.revoke(c, token))
    response = await api.get("/ui")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/sign-in")


async def test_a_forged_session_cookie_is_ignored(api: Harness) -> None:
    await api.user("alice")
    api.client.cookies.set("waybill_session", "AAAA" * 20, path="/ui")
    assert (await api.get("/ui")).status_code == 303


async def test_reflected_values_are_escaped(api: Harness) -> None:
    response = await api.get("/ui/sign-in", params={"next": '/ui/"><script>alert(1)</script>'})
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


async def test_unknown_pages_answer_html_and_the_api_keeps_json(api: Harness) -> None:
    page = await api.get("/ui/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Not found</h1>" in page.text
    api_404 = await api.get("/no/such/endpoint")
    assert api_404.status_code == 404
    assert api_404.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }
