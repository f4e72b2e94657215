from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.peer_invoke import PeerInvoke
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    did: str,
    *,
    body: PeerInvoke,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/peers/{did}/invoke".format(
            did=quote(str(did), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | Problem | None:
    if response.status_code == 200:
        response_200 = response.json()
        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 502:
        response_502 = Problem.from_dict(response.json())

        return response_502

    if response.status_code == 504:
        response_504 = Problem.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | Problem]:
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
    body: PeerInvoke,
) -> Response[Any | Problem]:
    """Call a peer agent as plain HTTP: the answer's body is the peer agent's result itself

     For an agent that only changes its base URL. A `traceparent` header is used when the body has none.
    The call's nonce and time come back in the `talos-nonce` and `talos-at-ms` headers; refusals and
    failures are the same problem documents as `/v1/invoke`'s.

    Args:
        did (str): did:key:z6Mk...
        body (PeerInvoke): `/v1/invoke`'s body without `to` (the peer is the path's DID). Exactly
            one of `chain`, `txn` and `within`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        did=did,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    did: str,
    *,
    client: AuthenticatedClient | Client,
    body: PeerInvoke,
) -> Any | Problem | None:
    """Call a peer agent as plain HTTP: the answer's body is the peer agent's result itself

     For an agent that only changes its base URL. A `traceparent` header is used when the body has none.
    The call's nonce and time come back in the `talos-nonce` and `talos-at-ms` headers; refusals and
    failures are the same problem documents as `/v1/invoke`'s.

    Args:
        did (str): did:key:z6Mk...
        body (PeerInvoke): `/v1/invoke`'s body without `to` (the peer is the path's DID). Exactly
            one of `chain`, `txn` and `within`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        did=did,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    did: str,
    *,
    client: AuthenticatedClient | Client,
    body: PeerInvoke,
) -> Response[Any | Problem]:
    """Call a peer agent as plain HTTP: the answer's body is the peer agent's result itself

     For an agent that only changes its base URL. A `traceparent` header is used when the body has none.
    The call's nonce and time come back in the `talos-nonce` and `talos-at-ms` headers; refusals and
    failures are the same problem documents as `/v1/invoke`'s.

    Args:
        did (str): did:key:z6Mk...
        body (PeerInvoke): `/v1/invoke`'s body without `to` (the peer is the path's DID). Exactly
            one of `chain`, `txn` and `within`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        did=did,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    did: str,
    *,
    client: AuthenticatedClient | Client,
    body: PeerInvoke,
) -> Any | Problem | None:
    """Call a peer agent as plain HTTP: the answer's body is the peer agent's result itself

     For an agent that only changes its base URL. A `traceparent` header is used when the body has none.
    The call's nonce and time come back in the `talos-nonce` and `talos-at-ms` headers; refusals and
    failures are the same problem documents as `/v1/invoke`'s.

    Args:
        did (str): did:key:z6Mk...
        body (PeerInvoke): `/v1/invoke`'s body without `to` (the peer is the path's DID). Exactly
            one of `chain`, `txn` and `within`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            did=did,
            client=client,
            body=body,
        )
    ).parsed
