from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.consistency_proof import ConsistencyProof
from ...models.problem import Problem
from ...types import UNSET, Response


def _get_kwargs(
    *,
    old: int,
    new: int,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["old"] = old

    params["new"] = new

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/audit/consistency",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConsistencyProof | Problem | None:
    if response.status_code == 200:
        response_200 = ConsistencyProof.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ConsistencyProof | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    old: int,
    new: int,
) -> Response[ConsistencyProof | Problem]:
    """Consistency proof between two sizes

    Args:
        old (int):
        new (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConsistencyProof | Problem]
    """

    kwargs = _get_kwargs(
        old=old,
        new=new,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    old: int,
    new: int,
) -> ConsistencyProof | Problem | None:
    """Consistency proof between two sizes

    Args:
        old (int):
        new (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConsistencyProof | Problem
    """

    return sync_detailed(
        client=client,
        old=old,
        new=new,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    old: int,
    new: int,
) -> Response[ConsistencyProof | Problem]:
    """Consistency proof between two sizes

    Args:
        old (int):
        new (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConsistencyProof | Problem]
    """

    kwargs = _get_kwargs(
        old=old,
        new=new,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    old: int,
    new: int,
) -> ConsistencyProof | Problem | None:
    """Consistency proof between two sizes

    Args:
        old (int):
        new (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConsistencyProof | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            old=old,
            new=new,
        )
    ).parsed
