"""A failed request always names its cause: the `failed: ` of the log line and the run's first
failure are never empty (a response dropped over the size limit, a cut body, an HTTP status)."""

from __future__ import annotations

from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived
from twisted.web.http import _DataLoss

from reviewhoard.spiders.review import failure_reason


def failed(exc: BaseException) -> Failure:
    try:
        raise exc
    except BaseException:
        return Failure()


def test_silent_failures_are_named() -> None:
    assert failure_reason(failed(CancelledError())) == (
        "the response grew over DOWNLOAD_MAXSIZE (16 MB) and was dropped"
    )
    assert failure_reason(failed(_DataLoss())) == (
        "the body was cut short (truncated: fewer bytes than Content-Length)"
    )
    assert failure_reason(failed(ResponseNeverReceived([]))) == (
        "no response: the connection closed before one came"
    )


def test_an_http_error_names_its_status() -> None:
    url = "https://example.com/reviews"
    response = Response(url, status=404, request=Request(url))
    assert failure_reason(failed(HttpError(response, "Ignoring non-200 response"))) == "HTTP 404"


def test_a_message_is_kept_and_an_unknown_silent_one_named_by_its_class() -> None:
    assert failure_reason(failed(ValueError("bad header"))) == "bad header"
    assert failure_reason(failed(KeyError())) == "KeyError (no message)"
