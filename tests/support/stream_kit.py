"""Stream records as DynamoDB Streams delivers them (``NEW_IMAGE``), for feeding the function or
faking a stream: keys from the image, a sequence number of 21 digits, as DynamoDB Local's."""

from __future__ import annotations

from typing import Any

KEY_NAMES = ("partition_key", "sort_key")


def stream_record(
    image: dict[str, Any], sequence: int, event_name: str = "INSERT", *, with_image: bool = True
) -> dict[str, Any]:
    """The record of one write of ``image`` (a score item in wire format); ``with_image=False``
    leaves the new image out (a poller test needs only keys and order)."""
    dynamodb: dict[str, Any] = {
        "Keys": {k: image[k] for k in KEY_NAMES},
        "SequenceNumber": f"{sequence:021d}",
    }
    if with_image:
        dynamodb["NewImage"] = image
    return {"eventID": f"e{sequence}", "eventName": event_name, "dynamodb": dynamodb}


def key_record(sequence: int, run_id: str = "run") -> dict[str, Any]:
    """A record with only keys and a sequence number (its sort key is the sequence number)."""
    image = {"partition_key": {"S": run_id}, "sort_key": {"S": f"{sequence:06d}"}}
    return stream_record(image, sequence, with_image=False)
