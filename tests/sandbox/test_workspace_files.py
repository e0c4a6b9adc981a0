"""The workspace tree through the SDK's WorkspaceAPI: the compare-and-set import and friends."""

from __future__ import annotations

import base64

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, NotFound, ResourceAlreadyExists
from databricks.sdk.service.workspace import ImportFormat, Language, ObjectType


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_files_directories_and_compare_and_set(sdk: WorkspaceClient) -> None:
    ws = sdk.workspace
    with pytest.raises(NotFound):
        ws.import_("/Shared/a/b/x.json", content=b64("{}"), format=ImportFormat.AUTO)
    ws.mkdirs("/Shared/a/b")
    ws.import_("/Shared/a/b/x.json", content=b64('{"v": 1}'), format=ImportFormat.AUTO)
    with pytest.raises(ResourceAlreadyExists):
        ws.import_("/Shared/a/b/x.json", content=b64("{}"), format=ImportFormat.AUTO)
    ws.import_(
        "/Shared/a/b/x.json", content=b64('{"v": 2}'), format=ImportFormat.AUTO, overwrite=True
    )
    with ws.download("/Shared/a/b/x.json") as stream:
        assert stream.read() == b'{"v": 2}'
    exported = ws.export("/Shared/a/b/x.json")
    assert base64.b64decode(exported.content or "") == b'{"v": 2}'
    status = ws.get_status("/Shared/a/b/x.json")
    assert status.object_type is ObjectType.FILE and status.size == 8 and status.object_id
    ws.import_(
        "/Shared/a/nb", content=b64("print(1)"), format=ImportFormat.SOURCE,
        language=Language.PYTHON,
    )  # fmt: skip
    listed = {o.path: o.object_type for o in ws.list("/Shared/a")}
    assert listed == {"/Shared/a/b": ObjectType.DIRECTORY, "/Shared/a/nb": ObjectType.NOTEBOOK}
    with pytest.raises(BadRequest):
        ws.delete("/Shared/a")
    ws.delete("/Shared/a/b/x.json")
    with pytest.raises(NotFound):
        ws.get_status("/Shared/a/b/x.json")
    ws.delete("/Shared/a", recursive=True)
    with pytest.raises(NotFound):
        ws.list("/Shared/a").__next__()
    assert ws.get_status("/Shared").object_type is ObjectType.DIRECTORY
