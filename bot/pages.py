"""The plain pages phonebot shows a browser (linking, connecting): one sentence, never cached, no referrer."""

from __future__ import annotations

from starlette.responses import HTMLResponse, Response


def sentence_page(status: int, sentence: str, *, clear_cookie: tuple[str, str] | None = None) -> Response:
    """A minimal page saying ``sentence`` (already safe HTML); ``clear_cookie`` = ``(name, path)`` to delete."""
    body = (
        "<!doctype html><meta charset=utf-8><title>phonebot</title>"
        f'<p style="font:16px system-ui;margin:3em auto;max-width:34em">{sentence}</p>'
    )
    answer = HTMLResponse(
        body, status_code=status, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )
    if clear_cookie is not None:
        answer.delete_cookie(clear_cookie[0], path=clear_cookie[1])
    return answer
