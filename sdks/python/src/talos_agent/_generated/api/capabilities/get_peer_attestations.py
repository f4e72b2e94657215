from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.get_peer_attestations_response_200 import GetPeerAttestationsResponse200
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    did: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/peers/{did}/attestations".format(
            did=quote(str(did), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GetPeerAttestationsResponse200 | Problem | None:
    if response.status_code == 200:
        response_200 = GetPeerAttestationsResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

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
) -> Response[GetPeerAttestationsResponse200 | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    did: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[GetPeerAttestationsResponse200 | Problem]:
    """The attestation credentials a peer's DHT directory record carries, each verified (about that DID,
    valid now)

    Args:
        did (str): did:key:z6Mk...

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GetPeerAttestationsResponse200 | Problem]
    """

    kwargs = _get_kwargs(
        did=did,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    did: str,
    *,
    client: AuthenticatedClient | Client,
) -> GetPeerAttestationsResponse200 | Problem | None:
    """The attestation credentials a peer's DHT directory record carries, each verified (about that DID,
    valid now)

    Args:
        did (str): did:key:z6Mk...

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GetPeerAttestationsResponse200 | Problem
    """

    return sync_detailed(
        did=did,
        client=client,
    ).parsed


async def asyncio_detailed(
    did: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[GetPeerAttestationsResponse200 | Problem]:
    """The attestation credentials a peer's DHT directory record carries, each verified (about that DID,
    valid now)

    Args:
        did (str): did:key:z6Mk...

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GetPeerAttestationsResponse200 | Problem]
    """

    kwargs = _get_kwargs(
        did=did,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    did: str,
    *,
    client: AuthenticatedClient | Client,
) -> GetPeerAttestationsResponse200 | Problem | None:
    """The attestation credentials a peer's DHT directory record carries, each verified (about that DID,
    valid now)

    Args:
        did (str): did:key:z6Mk...

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GetPeerAttestationsResponse200 | Problem
    """

    return (
        await asyncio_detailed(
            did=did,
            client=client,
        )
    ).parsed
