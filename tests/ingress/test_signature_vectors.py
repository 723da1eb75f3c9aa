"""The stored signature vectors are what twilio-python computes (tests/data/twilio/regenerate.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.ingress.conftest import TWILIO


def _regenerate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("regenerate", TWILIO / "regenerate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_stored_vector_matches_twilio_python() -> None:
    assert _regenerate().main([]) == 0


def test_a_wrong_stored_signature_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads((TWILIO / "signature-vectors.json").read_text())
    assert len(document["vectors"]) >= 10
    document["vectors"][1]["params"]["Body"] = "changed after signing"
    tampered = tmp_path / "vectors.json"
    tampered.write_text(json.dumps(document))
    assert _regenerate().main(["--vectors", str(tampered)]) == 1
    assert f"{document['vectors'][1]['id']}: expected_signature" in capsys.readouterr().out
