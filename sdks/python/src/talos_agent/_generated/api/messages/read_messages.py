from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.inbox import Inbox
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    from_: int | Unset = UNSET,
    max_: int | Unset = UNSET,
    wait_ms: int | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["from"] = from_

    params["max"] = max_

    params["waitMs"] = wait_ms

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/messages",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Inbox | Problem | None:
    if response.status_code == 200:
        response_200 = Inbox.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Inbox | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    from_: int | Unset = UNSET,
    max_: int | Unset = UNSET,
    wait_ms: int | Unset = UNSET,
) -> Response[Inbox | Problem]:
    """Read the inbox from an index (long-poll with waitMs)

    Args:
        from_ (int | Unset):
        max_ (int | Unset):
        wait_ms (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Inbox | Problem]
    """

    kwargs = _get_kwargs(
        from_=from_,
        max_=max_,
        wait_ms=wait_ms,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    from_: int | Unset = UNSET,
    max_: int | Unset = UNSET,
    wait_ms: int | Unset = UNSET,
) -> Inbox | Problem | None:
    """Read the inbox from an index (long-poll with waitMs)

    Args:
        from_ (int | Unset):
        max_ (int | Unset):
        wait_ms (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Inbox | Problem
    """

    return sync_detailed(
        client=client,
        from_=from_,
        max_=max_,
        wait_ms=wait_ms,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    from_: int | Unset = UNSET,
    max_: int | Unset = UNSET,
    wait_ms: int | Unset = UNSET,
) -> Response[Inbox | Problem]:
    """Read the inbox from an index (long-poll with waitMs)

    Args:
        from_ (int | Unset):
        max_ (int | Unset):
        wait_ms (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Inbox | Problem]
    """

    kwargs = _get_kwargs(
        from_=from_,
        max_=max_,
        wait_ms=wait_ms,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    from_: int | Unset = UNSET,
    max_: int | Unset = UNSET,
    wait_ms: int | Unset = UNSET,
) -> Inbox | Problem | None:
    """Read the inbox from an index (long-poll with waitMs)

    Args:
        from_ (int | Unset):
        max_ (int | Unset):
        wait_ms (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Inbox | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            from_=from_,
            max_=max_,
            wait_ms=wait_ms,
        )
    ).parsed
