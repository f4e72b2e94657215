from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/audit/aggregate-proof",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | str | None:
    if response.status_code == 200:
        response_200 = response.text
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
) -> Response[Problem | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | str]:
    """The aggregate proof this node keeps of its own log

     The `talos/aggregate-proof@v1` text (docs/aggregation.md) that the node fetched from its aggregator
    (`talos up --aggregator`), checked, and stored: the agent's signed checkpoint and the aggregator's
    inclusion proof of it against the aggregator's published checkpoint. For `talos audit verify-
    anchored --aggregate`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
) -> Problem | str | None:
    """The aggregate proof this node keeps of its own log

     The `talos/aggregate-proof@v1` text (docs/aggregation.md) that the node fetched from its aggregator
    (`talos up --aggregator`), checked, and stored: the agent's signed checkpoint and the aggregator's
    inclusion proof of it against the aggregator's published checkpoint. For `talos audit verify-
    anchored --aggregate`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | str]:
    """The aggregate proof this node keeps of its own log

     The `talos/aggregate-proof@v1` text (docs/aggregation.md) that the node fetched from its aggregator
    (`talos up --aggregator`), checked, and stored: the agent's signed checkpoint and the aggregator's
    inclusion proof of it against the aggregator's published checkpoint. For `talos audit verify-
    anchored --aggregate`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
) -> Problem | str | None:
    """The aggregate proof this node keeps of its own log

     The `talos/aggregate-proof@v1` text (docs/aggregation.md) that the node fetched from its aggregator
    (`talos up --aggregator`), checked, and stored: the agent's signed checkpoint and the aggregator's
    inclusion proof of it against the aggregator's published checkpoint. For `talos audit verify-
    anchored --aggregate`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
