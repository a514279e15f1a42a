"""Errors the offline model answers with, in the provider's shapes.

Gemini's OpenAI-compatible endpoint answers errors with a JSON *list* holding one Google RPC status
(compat notes, "Errors"): ``[{"error": {"code", "message", "status", "details": [...]}}]``. A 400 names
the offending field in its message and in a ``google.rpc.BadRequest`` field violation; a 429 carries
``google.rpc.QuotaFailure`` (the quotaId says per minute or per day) and ``google.rpc.RetryInfo``, and no
Retry-After header. ``--strict-openai`` answers OpenAI's object shape instead
(``{"error": {"message", "type", "param", "code"}}``, with a Retry-After header on 429) so the client is
tested against both.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
OPENAI_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "server_error",
}
QUOTA_METRIC = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
QUOTA_PER_MINUTE = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
QUOTA_PER_DAY = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"


def seconds(value: float) -> str:
    """Seconds as Google writes them: ``28.5``, ``3600``, ``45.837906927`` (no float noise, no ``.0``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


@dataclass
class ProviderError(Exception):
    """An error answer: HTTP status, message, and (for 400) the field it is about."""

    status: int
    message: str
    field: str | None = None
    retry_delay: float | None = None  # 429 only: seconds, sent as RetryInfo.retryDelay
    quota_id: str | None = None  # 429 only
    extra_details: list[dict] = dataclasses.field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.message}"

    def google_error(self) -> dict:
        """The inner Google RPC status object ``{"code", "message", "status", "details"?}``."""
        details = list(self.extra_details)
        if self.field is not None:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": self.field, "description": self.message}],
                }
            )
        if self.quota_id is not None:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": QUOTA_METRIC,
                            "quotaId": self.quota_id,
                        }
                    ],
                }
            )
        if self.retry_delay is not None:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": f"{seconds(self.retry_delay)}s",
                }
            )
        body: dict = {
            "code": self.status,
            "message": self.message,
            "status": GOOGLE_STATUS.get(self.status, "UNKNOWN"),
        }
        if details:
            body["details"] = details
        return body

    def body(self, strict_openai: bool) -> list | dict:
        """The response body in the chosen dialect."""
        if strict_openai:
            return {
                "error": {
                    "message": self.message,
                    "type": OPENAI_TYPE.get(self.status, "api_error"),
                    "param": self.field,
                    "code": None,
                }
            }
        return [{"error": self.google_error()}]

    def headers(self, strict_openai: bool) -> dict[str, str]:
        """Extra response headers: only OpenAI's dialect sends Retry-After."""
        if strict_openai and self.retry_delay is not None:
            return {"retry-after": seconds(self.retry_delay)}
        return {}


def bad_request(field: str, message: str) -> ProviderError:
    """A 400 naming the field (a JSON path such as ``messages[1].content[0].image_url``)."""
    return ProviderError(400, f"Invalid value at '{field}': {message}", field=field)


def rate_limited(per_day: bool, retry_delay: float) -> ProviderError:
    """A 429 as the free tier sends it, per minute or per day."""
    quota = QUOTA_PER_DAY if per_day else QUOTA_PER_MINUTE
    limit = "requests per day" if per_day else "requests per minute"
    message = (
        f"You exceeded your current quota, please check your plan and billing details. "
        f"Quota exceeded for metric: generate_content_free_tier_requests ({limit}), model: gemini-2.5-flash. "
        f"Please retry in {seconds(retry_delay)}s."
    )
    return ProviderError(429, message, retry_delay=retry_delay, quota_id=quota)


STATUS_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "API key not valid. Please pass a valid API key.",
    403: "Permission denied: the API key cannot use this model.",
    404: "models/gemini-2.5-flash is not found for API version v1main, or is not supported.",
    500: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
}
