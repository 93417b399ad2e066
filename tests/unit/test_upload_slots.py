"""Uploaded photos are decoded a few at a time: the rest wait their turn, none is refused."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from iris.serve.uploads import DecodeSlots, decode_image, photo_upload, read_image_upload
from iris.settings import load_settings
from tests.support.api import api_client
from tests.support.wait import wait_for

UPLOADS = 3


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_decodes_run_one_at_a_time_with_a_concurrency_of_one(tmp_path: Path) -> None:
    app = FastAPI()
    app.state.settings = load_settings(data_dir=tmp_path, upload_decode_concurrency=1)
    gate = threading.Event()
    decoding: list[int] = [0, 0]  # now, most at once

    @app.post("/enroll")
    async def enroll(file: Annotated[UploadFile, Depends(photo_upload)]) -> dict[str, int]:
        data = await read_image_upload(file)
        decoding[0] += 1
        decoding[1] = max(decoding)
        try:
            image = await run_in_threadpool(decode_image, data, 32)
            await run_in_threadpool(gate.wait, 30)  # a slow decode: the others must wait
        finally:
            decoding[0] -= 1
        return {"width": int(image.shape[1])}

    def slots() -> DecodeSlots | None:
        return getattr(app.state, "upload_decode_slots", None)

    with api_client(app) as client, ThreadPoolExecutor(UPLOADS) as pool:
        def upload() -> httpx.Response:
            return client.post("/enroll", files={"file": ("p.jpg", jpeg(), "image/jpeg")})

        answers = [pool.submit(upload) for _ in range(UPLOADS)]
        # Either every upload waits behind the first, or (without slots) they all decode.
        wait_for(lambda: decoding[1] > 1 or ((s := slots()) and s.waiting == UPLOADS - 1),
                 20, what="all uploads parsed")
        assert decoding[1] == 1 and decoding[0] == 1
        gate.set()
        assert [a.result().status_code for a in answers] == [200] * UPLOADS
    assert decoding[1] == 1
    assert [a.result().json() for a in answers] == [{"width": 32}] * UPLOADS


def test_slots_default_to_the_setting_when_the_app_has_no_settings(tmp_path: Path) -> None:
    app = FastAPI()

    @app.post("/enroll")
    async def enroll(file: Annotated[UploadFile, Depends(photo_upload)]) -> dict[str, int]:
        return {"size": len(await file.read())}

    with api_client(app) as client:
        answer = client.post("/enroll", files={"file": ("p.jpg", jpeg(), "image/jpeg")})
    assert answer.status_code == 200
    slots = app.state.upload_decode_slots
    assert slots.limit == load_settings(data_dir=tmp_path).upload_decode_concurrency
    assert slots.active == 0 and slots.waiting == 0
