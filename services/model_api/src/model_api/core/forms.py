"""Forms read by the routes themselves, so a CSV sent as a text field may be as large as the
configured upload limit (FastAPI's ``Form()`` parameters go through Starlette's parser with its
1 MiB default per text part, which answered a bare 400). Used by ``/api/datasets`` and the
course's ``/iris`` routes alike."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from model_api.core.errors import ApiError


def form_body(
    fields: dict[str, dict[str, Any]], required: list[str], json_too: bool = False
) -> dict[str, Any]:
    """The OpenAPI request body (``openapi_extra``) of a route that reads its form itself."""
    schema = {"type": "object", "properties": fields, "required": required}
    content = {
        "multipart/form-data": {"schema": schema},
        "application/x-www-form-urlencoded": {"schema": schema},
    }
    if json_too:
        content["application/json"] = {"schema": schema}
    return {"requestBody": {"required": not json_too, "content": content}}


def too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"the CSV is larger than {limit} bytes")


async def read_form(request: Request, limit: int) -> FormData:
    """The form, with text fields allowed up to ``limit`` bytes (Starlette's default is 1 MiB)."""
    try:
        return await request.form(max_part_size=limit)
    except StarletteHTTPException as exc:  # Starlette's parser answers 400 on any part limit
        if "maximum size" in str(exc.detail):
            raise too_large(limit) from exc
        raise


async def csv_field(form: FormData, names: tuple[str, ...], limit: int) -> bytes | None:
    """The CSV bytes of the first of ``names`` present (a text field or a file part), ``None``
    if none is; 413 ``too_large`` above ``limit`` bytes."""
    for name in names:
        value = form.get(name)
        if value is None:
            continue
        if isinstance(value, UploadFile):
            data = await value.read(limit + 1)
        else:
            data = value.encode()
        if len(data) > limit:
            raise too_large(limit)
        return data
    return None
