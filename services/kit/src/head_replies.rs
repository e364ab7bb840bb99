//! Problem bodies for the replies hyper writes on its own.
//!
//! A request head hyper cannot take (larger than its read buffer, about 400 KB; a target
//! longer than 64 KB; bytes that are not HTTP/1) never reaches poem or [`crate::edge`]: hyper
//! answers 431, 414 or 400 itself, with no body, and closes the connection. Every other
//! refusal of the shop is an RFC 9457 problem, so the connection is wrapped in
//! [`ProblemRepliesIo`], which recognises such a reply among the bytes hyper writes and writes
//! the same status with a problem body instead.
//!
//! A reply is recognised only when one write is exactly a complete response head of one of
//! those statuses with `content-length: 0` and no header but `date` and `connection`. The
//! services' own 400, 414 and 431 responses carry a problem body and its content type, and a
//! body fragment never holds raw CR LF pairs (JSON and HTML escape them), so nothing else can
//! match.
//!
//! Kept, not removed (issue 22): without it these three refusals would be the only ones
//! without a problem body, and neither hyper nor poem offers a hook for them. What it relies
//! on, the exact bytes hyper writes, is pinned by `heads_hyper_refuses_get_problem_bodies`,
//! which sends the three heads to a real poem server: if a hyper upgrade writes those replies
//! differently, that test fails and this module must be revisited (or dropped, if hyper has
//! learned to let the application answer).

use std::{
    io::{self, IoSlice},
    pin::Pin,
    task::{Context, Poll, ready},
};

use poem::{
    http::{StatusCode, uri::Scheme},
    listener::Acceptor,
    web::{LocalAddr, RemoteAddr},
};
use poem_openapi::types::ToJSON;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::{edge::headers_too_large_detail, problem::Problem};

/// An acceptor whose connections give hyper's own replies a problem body.
pub struct ProblemReplies<A>(pub A);

impl<A: Acceptor> Acceptor for ProblemReplies<A> {
    type Io = ProblemRepliesIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.0.accept().await?;
        Ok((ProblemRepliesIo::new(io), local, remote, scheme))
    }
}

/// A connection that swaps hyper's bodiless error replies for problem responses.
pub struct ProblemRepliesIo<T> {
    inner: T,
    /// A replacement reply accepted from hyper and not yet written whole, with how much of it
    /// was written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> ProblemRepliesIo<T> {
    /// Wraps one accepted connection.
    pub fn new(inner: T) -> Self {
        Self { inner, pending: None }
    }
}

impl<T: AsyncWrite + Unpin> ProblemRepliesIo<T> {
    /// Writes what is left of a replacement reply before anything else.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((reply, written)) = &mut self.pending {
            if *written == reply.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &reply[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `head` (hyper's reply) as written and queues its replacement; the caller's
    /// write then reports every byte of `head` accepted, as hyper expects.
    fn poll_replace(&mut self, cx: &mut Context<'_>, reply: Vec<u8>, head_len: usize) -> Poll<io::Result<usize>> {
        self.pending = Some((reply, 0));
        // Hyper flushes next and waits there if the socket is full; an error here shows there.
        if let Poll::Ready(Err(err)) = self.poll_drain(cx) {
            return Poll::Ready(Err(err));
        }
        Poll::Ready(Ok(head_len))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemRepliesIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemRepliesIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        match problem_reply_for(buf) {
            Some(reply) => self.poll_replace(cx, reply, buf.len()),
            None => Pin::new(&mut self.inner).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &b[..]);
        if total <= MAX_REPLY_HEAD && first.starts_with(CLIENT_ERROR_STATUS_LINE) {
            let head: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            if let Some(reply) = problem_reply_for(&head) {
                return self.poll_replace(cx, reply, total);
            }
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Longer than any reply hyper writes on its own (status line, `content-length`, `date`,
/// `connection`), so larger writes are passed through without a look.
const MAX_REPLY_HEAD: usize = 256;

/// How every reply hyper writes on its own starts (it answers HTTP/1.0 clients in 1.1 too); a
/// success passes after comparing these few bytes.
const CLIENT_ERROR_STATUS_LINE: &[u8] = b"HTTP/1.1 4";

/// The problem response replacing `written` when it is one of hyper's own error replies.
fn problem_reply_for(written: &[u8]) -> Option<Vec<u8>> {
    if written.len() > MAX_REPLY_HEAD || !written.starts_with(CLIENT_ERROR_STATUS_LINE) {
        return None;
    }
    let mut headers = [httparse::EMPTY_HEADER; 4];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(written) {
        Ok(httparse::Status::Complete(len)) if len == written.len() => {}
        _ => return None,
    }
    let status = StatusCode::from_u16(response.code?).ok()?;
    let detail = detail_for(status)?;
    let mut bodiless = false;
    let mut date = None;
    for header in response.headers.iter() {
        match header.name.to_ascii_lowercase().as_str() {
            "content-length" => bodiless = header.value == b"0",
            "date" => date = std::str::from_utf8(header.value).ok(),
            "connection" => {}
            _ => return None,
        }
    }
    if !bodiless {
        return None;
    }
    let body = Problem::new(status.as_u16(), detail).to_json_string();
    let mut reply = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default(),
        crate::problem::PROBLEM_CONTENT_TYPE,
        body.len(),
    );
    if let Some(date) = date {
        reply.push_str(&format!("date: {date}\r\n"));
    }
    reply.push_str("\r\n");
    reply.push_str(&body);
    Some(reply.into_bytes())
}

/// What a client is told for each status hyper answers on its own.
fn detail_for(status: StatusCode) -> Option<String> {
    match status {
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Some(headers_too_large_detail()),
        StatusCode::URI_TOO_LONG => Some("the request target (path and query) is too long".to_owned()),
        StatusCode::BAD_REQUEST => Some("the request head is not valid HTTP/1.1".to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPER_431: &[u8] =
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Sun, 29 Nov 2026 21:00:00 GMT\r\n\r\n";

    fn split(reply: &[u8]) -> (String, serde_json::Value) {
        let text = String::from_utf8(reply.to_vec()).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        (head.to_owned(), serde_json::from_str(body).expect("json body"))
    }

    #[test]
    fn hyper_replies_get_a_problem_body_with_the_same_status() {
        let (head, body) = split(&problem_reply_for(HYPER_431).expect("replaced"));
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{head}");
        assert!(head.contains("content-type: application/problem+json"), "{head}");
        assert!(head.contains("connection: close") && head.contains("date: Sun, 29 Nov 2026"), "{head}");
        assert_eq!(body["status"], 431);
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("16 KiB")), "{body}");

        let uri = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(split(&problem_reply_for(uri).expect("replaced")).1["status"], 414);
        let bad = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(split(&problem_reply_for(bad).expect("replaced")).1["status"], 400);
    }

    #[test]
    fn responses_of_the_services_pass_untouched() {
        let cases: [&[u8]; 6] = [
            // One of the services' own problems: it has a content type and a body.
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/problem+json\r\ncontent-length: 80\r\n\r\n",
            // A status hyper never answers alone.
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            // A head followed by anything.
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}",
            // Not a complete head.
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n",
            // A body fragment.
            b"{\"detail\":\"HTTP/1.1 431\"}",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n",
        ];
        for case in cases {
            assert!(problem_reply_for(case).is_none(), "{}", String::from_utf8_lossy(case));
        }
    }

    /// Sends `request` over a fresh connection and reads the reply to its end.
    async fn raw_reply(address: std::net::SocketAddr, request: &[u8]) -> Vec<u8> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
        // hyper may answer and close before the whole request is sent.
        let _ = stream.write_all(request).await;
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply).await;
        reply
    }

    /// Heads hyper refuses on its own, sent to a real poem server: each gets the status hyper
    /// chose, now with a problem body, and the server goes on answering.
    #[tokio::test]
    async fn heads_hyper_refuses_get_problem_bodies() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let app = poem::endpoint::make_sync(|_| "hello");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::server::serve(listener, app, async {
            let _ = stopped.await;
        }));

        let beyond_buffer = format!("GET / HTTP/1.1\r\nhost: x\r\nx-padding: {}\r\n\r\n", "p".repeat(600 * 1024));
        let long_target = format!("GET /{} HTTP/1.1\r\nhost: x\r\n\r\n", "t".repeat(70 * 1024));
        let cases =
            [(beyond_buffer.as_bytes(), 431), (long_target.as_bytes(), 414), (&b"NOT\x01HTTP\r\n\r\n"[..], 400)];
        for (request, status) in cases {
            let (head, body) = split(&raw_reply(address, request).await);
            assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
            assert!(head.contains("content-type: application/problem+json"), "{head}");
            assert_eq!(body["status"], status, "{body}");
        }

        let reply = raw_reply(address, b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await;
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.starts_with("HTTP/1.1 200 OK") && reply.ends_with("hello"), "{reply}");

        stop.send(()).expect("stop");
        server.await.expect("join").expect("serve");
    }
}
