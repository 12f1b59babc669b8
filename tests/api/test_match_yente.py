"""POST /api/v1/match/{dataset} in OpenSanctions yente's request and response shape."""

from __future__ import annotations

# The request from OpenSanctions' API documentation ("The request", opensanctions.org/docs/api/request/):
# a Company query by name and jurisdiction, and a Person by name parts, posted as {"queries": {"q": ...}}
# to /match/default with ?threshold=0.8 among its PARAMS.
COMPANY_QUERY = {"schema": "Company", "properties": {"name": ["Stroygazmontazh"], "jurisdiction": ["Russia"]}}
PERSON_QUERY = {
    "schema": "Person",
    "properties": {"firstName": ["Arkadii"], "fatherName": ["Romanovich"], "lastName": ["Rotenberg", "Ротенберг"],
                   "birthDate": ["1951"]},
}  # fmt: skip


def test_yente_company_query(api):
    r = api.client.post(
        "/api/v1/match/default?threshold=0.8",
        json={"queries": {"q": COMPANY_QUERY}},
        headers=api.auth("viewer"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"responses", "matcher", "limit"}
    q = body["responses"]["q"]
    assert q["status"] == 200 and q["query"]["schema"] == "Company"
    top = q["results"][0]
    # yente's ScoredEntityResponse fields: id, caption, schema, properties, datasets, score, features, match
    assert {"id", "caption", "schema", "properties", "datasets", "score", "features", "match"} <= set(top)
    # OOO Stroygazmontazh is on the Entity List (79 FR 24558, the 2014 Russia designations)
    assert top["caption"].lower() == "stroygazmontazh" and top["match"] is True and top["score"] >= 0.8
    assert "EL" in top["datasets"] and top["properties"]["country"] == ["ru"]
    assert q["total"]["value"] >= len(q["results"])


def test_yente_person_query_and_bad_dataset(api):
    h = api.auth("viewer")
    r = api.client.post("/api/v1/match/default", json={"queries": {"p": PERSON_QUERY}}, headers=h)
    assert r.status_code == 200 and "p" in r.json()["responses"]
    r = api.client.post("/api/v1/match/sanctions", json={"queries": {"q": COMPANY_QUERY}}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "dataset"]
    r = api.client.post("/api/v1/match/default", json={"queries": {"q": {"schema": "Company"}}}, headers=h)
    assert r.status_code == 422
