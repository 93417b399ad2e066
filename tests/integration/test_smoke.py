import httpx


def test_health_and_auth(iris):
    assert httpx.get(f"{iris.base_url}/health").status_code == 200
    assert httpx.get(f"{iris.base_url}/api/cameras").status_code == 401
    with iris.client() as client:
        assert client.get("/api/cameras").status_code == 200
