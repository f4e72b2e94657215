//! The request/response codec for `/talos/invoke/1.0.0`: one length-prefixed JSON
//! document each way, parsed by [`crate::invoke`]. Requests are small (64 KiB at most)
//! and the behaviour bounds concurrent streams, so no shared read budget is needed.

use std::io;

use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use libp2p::request_response;

use super::{read_bounded, write_prefixed};
use crate::a2a::DEFAULT_BODY_DEADLINE;
use crate::invoke::{
    InvokeError, InvokeRequest, InvokeResponse, MAX_INVOKE_REQUEST, MAX_INVOKE_RESPONSE,
};

/// The invoke codec.
#[derive(Clone, Debug, Default)]
pub struct InvokeCodec;

fn invalid(e: InvokeError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl request_response::Codec for InvokeCodec {
    type Protocol = StreamProtocol;
    type Request = InvokeRequest;
    type Response = InvokeResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<InvokeRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        // The body deadline holds here too: a slow caller would otherwise keep one of its
        // connection's stream slots for the whole invoke timeout.
        let body =
            tokio::time::timeout(DEFAULT_BODY_DEADLINE, read_bounded(io, MAX_INVOKE_REQUEST))
                .await
                .map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::TimedOut,
                        "invoke request not received within the deadline",
                    )
                })??;
        InvokeRequest::parse(&body).map_err(invalid)
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<InvokeResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        InvokeResponse::parse(&read_bounded(io, MAX_INVOKE_RESPONSE).await?).map_err(invalid)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: InvokeRequest,
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
        resp: InvokeResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_prefixed(io, &resp.encode().map_err(invalid)?).await
    }
}
