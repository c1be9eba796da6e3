"""A Bundle response carries its entries' stored texts as they are (`http._with_entry_texts`):
each text lands in its own entry, in order, byte for byte; an entry without a text is encoded;
and a body that holds the slot's own spelling elsewhere is encoded whole instead."""

from __future__ import annotations

import json
from typing import Any

from yunyi.emr import jsontext
from yunyi.emr.bundles import StoredText
from yunyi.emr.http import _with_entry_texts


def _bundle(resources: list[dict[str, Any]], url: str = "http://x/fhir/R4/Patient") -> Any:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "self", "url": url}],
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


def test_stored_texts_land_verbatim_in_their_own_entries() -> None:
    first = {"resourceType": "Patient", "id": "a", "name": [{"family": "王"}]}
    second = {"resourceType": "Patient", "id": "b"}
    third = {"resourceType": "Patient", "id": "c", "active": True}
    body = _bundle([first, second, third])
    # Texts as another writer spelled them (JSONB's spacing): carried as they are.
    texts = {
        id(first): '{"id": "a", "name": [{"family": "王"}], "resourceType": "Patient"}',
        id(third): '{"resourceType":"Patient","id":"c","active":true}',
    }
    sent = _with_entry_texts(body, texts)
    assert json.loads(sent) == body
    assert texts[id(first)] in sent and texts[id(third)] in sent
    assert sent.index('"id": "a"') < sent.index('"id":"b"') < sent.index('"id":"c"')


def test_a_body_holding_the_slot_elsewhere_is_encoded_whole() -> None:
    resource = {"resourceType": "Patient", "id": "a"}
    body = _bundle([resource], url="\x00")  # cannot come from a request; checked anyway
    sent = _with_entry_texts(body, {id(resource): '{"resourceType": "Patient", "id": "a"}'})
    assert sent == jsontext.dumps(body)
    assert json.loads(sent) == body


def test_slots_in_a_body_encoded_whole_become_their_parsed_documents() -> None:
    slot = StoredText()
    body = _bundle([slot], url="\x00")  # type: ignore[list-item]
    text = '{"resourceType":"Patient","id":"a"}'
    sent = _with_entry_texts(body, {id(slot): text})
    assert json.loads(sent)["entry"][0]["resource"] == {"resourceType": "Patient", "id": "a"}
    assert json.loads(sent)["link"][0]["url"] == "\x00"
