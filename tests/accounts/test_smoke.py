async def test_repository_visibility(api):
    await api.user("alice")
    await api.org("acme", owner="alice")
    await api.repo("acme/web", private=True)
    token = await api.token("alice")
    assert (await api.get("/repos/acme/web")).status_code == 404
    r = await api.get("/repos/ACME/Web", token=token)
    assert r.status_code == 200, r.text
    assert r.json()["full_name"] == "acme/web"
