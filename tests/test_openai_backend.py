import base64
import io
import time

import pytest
from PIL import Image

from fake_openai_server import FakeServer, ok_reply
from vold_bench.backends.openai import OpenAIBackend, to_openai_messages
from vold_bench.errors import VoldError
from vold_bench.schema import GenConfig, GenRequest


def _req(i, image=None):
    content = ([{"type": "image"}] if image is not None else []) + [{"type": "text", "text": f"q{i}"}]
    return GenRequest(id=f"id{i}", messages=[{"role": "user", "content": content}],
                      images=[image] if image is not None else [])


def _echo(body, n):
    text = body["messages"][0]["content"][-1]["text"]
    return 200, ok_reply(f"answer to {text}", tokens=len(text))


def test_images_become_png_data_urls_and_settings_are_sent():
    img = Image.new("RGB", (30, 20), (200, 10, 10))
    with FakeServer(_echo) as s:
        be = OpenAIBackend("m", base_url=s.url, backoff=0.01)
        out = be.generate([_req(0, img)], GenConfig(max_new_tokens=7, temperature=0.5, top_p=0.9, seed=3))
    body = s.bodies[0]
    got = (body["model"], body["max_tokens"], body["temperature"], body["top_p"], body["seed"])
    assert got == ("m", 7, 0.5, 0.9, 3)
    part = body["messages"][0]["content"][0]
    assert part["type"] == "image_url"
    head, b64 = part["image_url"]["url"].split(",", 1)
    assert head == "data:image/png;base64"
    back = Image.open(io.BytesIO(base64.b64decode(b64)))
    assert back.size == (30, 20) and back.getpixel((0, 0)) == (200, 10, 10)
    assert out[0].text == "answer to q0" and out[0].gen_tokens == 2 and out[0].finish_reason == "stop"


def test_order_kept_and_concurrency_bounded():
    with FakeServer(_echo, delay=0.05) as s:
        be = OpenAIBackend("m", base_url=s.url, concurrency=3)
        out = be.generate([_req(i) for i in range(12)], GenConfig())
    assert [r.text for r in out] == [f"answer to q{i}" for i in range(12)]
    assert 2 <= s.peak <= 3


def test_transient_failures_are_retried():
    def plan(body, n):
        if n == 0:
            return 503, {"error": "overloaded"}
        if n == 1:
            return 429, {"error": "slow down"}, {"Retry-After": "0"}
        if n == 2:
            return "hang"  # past the client timeout
        return 200, ok_reply("fine", finish="length")

    with FakeServer(plan) as s:
        be = OpenAIBackend("m", base_url=s.url, backoff=0.01, timeout=0.5)
        out = be.generate([_req(0)], GenConfig())
    assert len(s.bodies) == 4
    assert out[0].text == "fine" and out[0].finish_reason == "length"


def test_permanent_failure_raises_after_bounded_retries():
    with FakeServer(lambda b, n: (500, {"error": "boom"})) as s:
        be = OpenAIBackend("m", base_url=s.url, backoff=0.01, max_retries=3)
        with pytest.raises(VoldError, match=r"item id0 failed after 4 attempts \(HTTP 500"):
            be.generate([_req(0)], GenConfig())
    assert len(s.bodies) == 4


def test_client_error_fails_fast_and_unreachable_server_is_named():
    with FakeServer(lambda b, n: (400, {"error": "bad model"})) as s:
        be = OpenAIBackend("m", base_url=s.url, backoff=0.01)
        with pytest.raises(VoldError, match="rejected.*400.*bad model"):
            be.generate([_req(0)], GenConfig())
    assert len(s.bodies) == 1
    url = s.url  # server closed now: connection refused
    be = OpenAIBackend("m", base_url=url, backoff=0.01, max_retries=1)
    t0 = time.time()
    with pytest.raises(VoldError, match="127.0.0.1.*failed after 2 attempts"):
        be.generate([_req(0)], GenConfig())
    assert time.time() - t0 < 5


def test_message_conversion_errors():
    with pytest.raises(VoldError, match="more image placeholders"):
        to_openai_messages([{"role": "user", "content": [{"type": "image"}]}], [])
    with pytest.raises(VoldError, match="cannot read image"):
        to_openai_messages([{"role": "user", "content": [{"type": "image"}]}], ["/nonexistent.png"])
    msgs = to_openai_messages([{"role": "system", "content": "be brief"}], [])
    assert msgs == [{"role": "system", "content": "be brief"}]


def test_missing_url_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(VoldError, match="--base-url"):
        OpenAIBackend("m")


def test_a_failed_run_stops_the_other_requests_retrying():
    """One request fails for good; the others, told to retry in 30 s, must not keep the
    process alive that long (the harness has already written what finished)."""
    import threading

    def plan(body, n):
        if _prompt_of(body) == "q0":
            return 500, {"error": "boom"}
        return 503, {"error": "busy"}, {"Retry-After": "30"}

    with FakeServer(plan) as s:
        be = OpenAIBackend("m", base_url=s.url, backoff=0.01, max_retries=1, concurrency=4)
        before = threading.active_count()
        t0 = time.time()
        with pytest.raises(VoldError, match="item id0 failed after 2 attempts"):
            be.generate([_req(i) for i in range(4)], GenConfig())
        deadline = time.time() + 5
        while threading.active_count() > before and time.time() < deadline:
            time.sleep(0.05)
        assert time.time() - t0 < 5 and threading.active_count() <= before


def _prompt_of(body):
    return body["messages"][0]["content"][-1]["text"]
