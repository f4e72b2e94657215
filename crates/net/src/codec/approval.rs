//! The request/response codec for `/talos/approval/1.0.0`: one length-prefixed JSON
//! document each way, parsed by [`crate::approval`], under the same body deadline as
//! invoke requests.

use std::io;

use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use libp2p::request_response;

use super::{read_bounded, write_prefixed};
use crate::a2a::DEFAULT_BODY_DEADLINE;
use crate::approval::{ApprovalAck, ApprovalMessage, MAX_APPROVAL_ACK, MAX_APPROVAL_MESSAGE};
use crate::invoke::InvokeError;

/// The approval codec.
#[derive(Clone, Debug, Default)]
pub struct ApprovalCodec;

fn invalid(e: InvokeError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl request_response::Codec for ApprovalCodec {
    type Protocol = StreamProtocol;
    type Request = ApprovalMessage;
    type Response = ApprovalAck;

    async fn read_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<ApprovalMessage>
    where
        T: AsyncRead + Unpin + Send,
    {
        let body = tokio::time::timeout(
            DEFAULT_BODY_DEADLINE,
            read_bounded(io, MAX_APPROVAL_MESSAGE),
        )
        .await
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                "approval message not received in time",
            )
        })??;
        ApprovalMessage::parse(&body).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<ApprovalAck>
    where
        T: AsyncRead + Unpin + Send,
    {
        ApprovalAck::parse(&read_bounded(io, MAX_APPROVAL_ACK).await?).map_err(invalid)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: ApprovalMessage,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_prefixed(io, &req.encode().map_err(invalid)?).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        resp: ApprovalAck,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_prefixed(io, &resp.encode().map_err(invalid)?).await
    }
}
