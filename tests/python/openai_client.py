"""The official `openai` package, unmodified but for `base_url` and `api_key`, against
Airlock's OpenAI-compatible API: a plain and a streamed chat completion, each with an
image part, and the model list. Exits non-zero (with an assertion message) on any
difference. Run by tests/tests/openai_sdk.rs with AIRLOCK_BASE_URL and AIRLOCK_API_KEY.
"""

import base64
import os
import sys

import openai
from openai import OpenAI

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
IMAGE_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
EXPECTED = "Hello from the fake upstream"


def messages():
    return [
        {"role": "system", "content": "You write HTML."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Make a page like this screenshot."},
                {"type": "image_url", "image_url": {"url": IMAGE_URL, "detail": "low"}},
            ],
        },
    ]


def main():
    client = OpenAI(base_url=os.environ["AIRLOCK_BASE_URL"] + "/v1", api_key=os.environ["AIRLOCK_API_KEY"])
    model = os.environ.get("AIRLOCK_MODEL", "openai/gpt-4o")

    models = [m.id for m in client.models.list()]
    assert model in models, f"{model} not in {models}"

    plain = client.chat.completions.create(model=model, messages=messages(), max_tokens=64)
    assert plain.object == "chat.completion", plain
    assert plain.choices[0].message.role == "assistant", plain
    assert EXPECTED in plain.choices[0].message.content, plain
    assert plain.choices[0].finish_reason == "stop", plain
    assert plain.usage.prompt_tokens == 42 and plain.usage.total_tokens > 42, plain.usage

    pieces = []
    usage = None
    stream = client.chat.completions.create(
        model=model, messages=messages(), stream=True, stream_options={"include_usage": True}
    )
    finish = None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk", chunk
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
    text = "".join(pieces)
    assert len(pieces) > 1, f"streamed in one piece: {pieces}"
    assert EXPECTED in text, text
    assert text == plain.choices[0].message.content, (text, plain.choices[0].message.content)
    assert finish == "stop", finish
    assert usage is not None and usage.prompt_tokens == 42, usage

    try:
        OpenAI(base_url=os.environ["AIRLOCK_BASE_URL"] + "/v1", api_key="ak_000000000000_wrong").models.list()
        raise AssertionError("a wrong key was accepted")
    except openai.AuthenticationError as error:
        assert error.status_code == 401

    print(f"openai {openai.__version__}: plain and streamed completions with an image passed ({len(pieces)} chunks)")


if __name__ == "__main__":
    sys.exit(main())
