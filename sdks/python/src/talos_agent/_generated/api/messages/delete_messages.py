from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.deleted import Deleted
from ...models.problem import Problem
from ...types import UNSET, Response


def _get_kwargs(
    *,
    through: int,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["through"] = through

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/v1/messages",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Deleted | Problem | None:
    if response.status_code == 200:
        response_200 = Deleted.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Deleted | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    through: int,
) -> Response[Deleted | Problem]:
    """Acknowledge the inbox: delete every entry with an index up to `through`, durably

     Once the answer comes the entries are gone for good (a later read from 0 starts after them); indexes
    are never reused. Unread entries count against the inbox quotas (`peer_inbox_max_entries`,
    `peer_inbox_max_bytes`, `inbox_max_entries`, `inbox_max_bytes`): past them senders are answered
    OverQuota and keep their frames until the agent acknowledges some. Entries older than
    `inbox_retention_secs` (default 7 days) are deleted whether read or not. See docs/api.md.

    Args:
        through (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Deleted | Problem]
    """

    kwargs = _get_kwargs(
        through=through,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    through: int,
) -> Deleted | Problem | None:
    """Acknowledge the inbox: delete every entry with an index up to `through`, durably

     Once the answer comes the entries are gone for good (a later read from 0 starts after them); indexes
    are never reused. Unread entries count against the inbox quotas (`peer_inbox_max_entries`,
    `peer_inbox_max_bytes`, `inbox_max_entries`, `inbox_max_bytes`): past them senders are answered
    OverQuota and keep their frames until the agent acknowledges some. Entries older than
    `inbox_retention_secs` (default 7 days) are deleted whether read or not. See docs/api.md.

    Args:
        through (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Deleted | Problem
    """

    return sync_detailed(
        client=client,
        through=through,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    through: int,
) -> Response[Deleted | Problem]:
    """Acknowledge the inbox: delete every entry with an index up to `through`, durably

     Once the answer comes the entries are gone for good (a later read from 0 starts after them); indexes
    are never reused. Unread entries count against the inbox quotas (`peer_inbox_max_entries`,
    `peer_inbox_max_bytes`, `inbox_max_entries`, `inbox_max_bytes`): past them senders are answered
    OverQuota and keep their frames until the agent acknowledges some. Entries older than
    `inbox_retention_secs` (default 7 days) are deleted whether read or not. See docs/api.md.

    Args:
        through (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Deleted | Problem]
    """

    kwargs = _get_kwargs(
        through=through,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    through: int,
) -> Deleted | Problem | None:
    """Acknowledge the inbox: delete every entry with an index up to `through`, durably

     Once the answer comes the entries are gone for good (a later read from 0 starts after them); indexes
    are never reused. Unread entries count against the inbox quotas (`peer_inbox_max_entries`,
    `peer_inbox_max_bytes`, `inbox_max_entries`, `inbox_max_bytes`): past them senders are answered
    OverQuota and keep their frames until the agent acknowledges some. Entries older than
    `inbox_retention_secs` (default 7 days) are deleted whether read or not. See docs/api.md.

    Args:
        through (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Deleted | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            through=through,
        )
    ).parsed
