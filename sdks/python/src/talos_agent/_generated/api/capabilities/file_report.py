from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.file_report import FileReport
from ...models.problem import Problem
from ...models.report_filed import ReportFiled
from ...types import Response


def _get_kwargs(
    *,
    body: FileReport,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/reports",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | ReportFiled | None:
    if response.status_code == 201:
        response_201 = ReportFiled.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | ReportFiled]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: FileReport,
) -> Response[Problem | ReportFiled]:
    """File a misbehaviour report about another agent: signed by this agent, kept, audited (`report_filed`)
    and gossiped (crates/reputation/FORMAT.md)

    Args:
        body (FileReport): a misbehaviour report to sign (crates/reputation/FORMAT.md §1)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReportFiled]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: FileReport,
) -> Problem | ReportFiled | None:
    """File a misbehaviour report about another agent: signed by this agent, kept, audited (`report_filed`)
    and gossiped (crates/reputation/FORMAT.md)

    Args:
        body (FileReport): a misbehaviour report to sign (crates/reputation/FORMAT.md §1)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReportFiled
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: FileReport,
) -> Response[Problem | ReportFiled]:
    """File a misbehaviour report about another agent: signed by this agent, kept, audited (`report_filed`)
    and gossiped (crates/reputation/FORMAT.md)

    Args:
        body (FileReport): a misbehaviour report to sign (crates/reputation/FORMAT.md §1)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReportFiled]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: FileReport,
) -> Problem | ReportFiled | None:
    """File a misbehaviour report about another agent: signed by this agent, kept, audited (`report_filed`)
    and gossiped (crates/reputation/FORMAT.md)

    Args:
        body (FileReport): a misbehaviour report to sign (crates/reputation/FORMAT.md §1)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReportFiled
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
