"""Golden files: the generated modules for the repository's ``protos/``, committed.

Regenerate them after an intended change with::

    python -m tests.generator.regen_golden

then review ``git diff tests/golden`` and commit. This test regenerates in
process and compares byte for byte, so any change to the templates or naming
shows up as a reviewable diff of real output.
"""

from __future__ import annotations

from google.protobuf.compiler import plugin_pb2

from protoreq_generator.plugin import generate
from protoreq_generator.protoc import Invocation, descriptor_request
from tests.generator.support import GOLDEN_DIR, PROTOS_DIR, REPO_ROOT, golden_outputs

REGEN = "python -m tests.generator.regen_golden"


def test_golden_files_match_the_generator() -> None:
    outputs = golden_outputs()
    committed = {
        path.relative_to(GOLDEN_DIR).as_posix(): path.read_text(encoding="utf-8")
        for path in GOLDEN_DIR.rglob("*_protoreq.py")
    }
    assert sorted(committed) == sorted(outputs), f"golden files added or removed; run {REGEN}"
    for name, content in outputs.items():
        assert committed[name] == content, f"{name} differs from its golden file; run {REGEN}"


def test_every_repository_proto_with_services_has_a_golden_file() -> None:
    expected = {f"protos/{path.stem}_protoreq.py" for path in PROTOS_DIR.glob("*.proto")}
    assert set(golden_outputs()) == expected


def test_generation_is_deterministic() -> None:
    invocation = Invocation(includes=(REPO_ROOT,), sources=(PROTOS_DIR,))
    first = descriptor_request(invocation)
    second = descriptor_request(invocation)
    assert first.SerializeToString() == second.SerializeToString()

    def output(request: plugin_pb2.CodeGeneratorRequest) -> bytes:
        return generate(request).SerializeToString(deterministic=True)

    assert output(first) == output(second) == output(first)
