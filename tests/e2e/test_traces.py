"""Traces leave a real `marketplace serve` over OTLP/HTTP: a collector of our own on the loopback
receives the request span, the operation inside it and its SQL statements, flushed at shutdown."""

from __future__ import annotations

import asyncio
import gzip
import json
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from websockets.asyncio.client import connect

from observability.tracing import REQUEST_ID_ATTRIBUTE

QUERY = "query FirstSkills { skills(first: 2) { slug } }"


class Collector(ThreadingHTTPServer):
    """Keeps every span it is sent, with the resource's service name."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.spans: list[tuple[str, Span]] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Receive(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        if self.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        with self.server.lock:
            self.server.paths.append(self.path)
            for resource_spans in export.resource_spans:
                service = attributes(resource_spans.resource.attributes).get("service.name")
                for scope_spans in resource_spans.scope_spans:
                    self.server.spans.extend((service, span) for span in scope_spans.spans)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        return None


def attributes(pairs: Any) -> dict[str, Any]:
    def value(pair: KeyValue) -> Any:
        return getattr(pair.value, pair.value.WhichOneof("value"))

    return {pair.key: value(pair) for pair in pairs}


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


async def test_a_served_request_is_exported_as_one_trace_at_shutdown(
    start_server: Any, collector: Collector
) -> None:
    # given a server that exports only when its batch is full or it stops
    server = await start_server(
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint, OTEL_BSP_SCHEDULE_DELAY="600000"
    )
    # when a query over HTTP and one over a websocket, then SIGTERM
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        response = await client.post(
            "/graphql", json={"query": QUERY}, headers={"x-request-id": "e2e-trace-1"}
        )
    assert response.status_code == 200, response.text
    async with connect(
        server.ws_url,
        subprotocols=["graphql-transport-ws"],
        additional_headers={"x-request-id": "e2e-socket-1"},
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
        assert json.loads(await socket.recv())["type"] == "next"
        assert json.loads(await socket.recv())["type"] == "complete"
    assert collector.spans == [], "exported before shutdown: the batch delay was not honoured"
    server.process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(server.process.wait, 20) in (0, -signal.SIGTERM)
    # then
    assert "Failed to detach context" not in server.log()
    assert set(collector.paths) == {"/v1/traces"}
    assert {service for service, _ in collector.spans} == {"marketplace"}
    spans = [span for _, span in collector.spans]
    system = "postgresql" if server.database_url.startswith("postgres") else "sqlite"
    by_request = {
        attributes(span.attributes).get(REQUEST_ID_ATTRIBUTE): span
        for span in spans
        if span.kind == Span.SPAN_KIND_SERVER
    }
    for request_id in ("e2e-trace-1", "e2e-socket-1"):
        request = by_request[request_id]
        assert request.parent_span_id == b""
        tree = [span for span in spans if span.trace_id == request.trace_id]
        (operation,) = [span for span in tree if span.parent_span_id == request.span_id]
        assert operation.name == "query FirstSkills"
        assert attributes(operation.attributes)[REQUEST_ID_ATTRIBUTE] == request_id
        statements = [span for span in tree if span.parent_span_id == operation.span_id]
        assert len(statements) == 1
        statement = attributes(statements[0].attributes)
        assert "skills" in statement["db.statement"]
        assert statement["db.system"] == system
        assert {span.span_id for span in tree} == {
            request.span_id,
            operation.span_id,
            statements[0].span_id,
        }
    assert by_request["e2e-trace-1"].name == "POST /graphql"
