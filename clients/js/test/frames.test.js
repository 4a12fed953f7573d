// The wire format: what the client accepts from the gateway, what it refuses,
// what it sends and where it resumes.

import assert from "node:assert/strict";
import { test } from "node:test";

import { ProtocolError, ackFrame, parseServerFrame, resumeUrl } from "../src/frames.js";

test("a session frame", () => {
  const text = '{"type":"session","connectionId":"c1","resumeToken":"t1","resumed":true}';
  assert.deepEqual(parseServerFrame(text), { type: "session", connectionId: "c1", resumeToken: "t1", resumed: true });
});

test("text and binary message frames", () => {
  assert.deepEqual(parseServerFrame('{"type":"message","seq":1,"data":"hi"}'), { type: "message", seq: 1, data: "hi" });
  assert.deepEqual(parseServerFrame('{"type":"message","seq":2,"data":""}'), { type: "message", seq: 2, data: "" });
  assert.deepEqual(parseServerFrame('{"type":"message","seq":3,"binary":"AAH/"}'), {
    type: "message",
    seq: 3,
    data: new Uint8Array([0, 1, 255]),
  });
  assert.deepEqual(parseServerFrame('{"type":"message","seq":4,"binary":""}'), {
    type: "message",
    seq: 4,
    data: new Uint8Array([]),
  });
});

test("a frame type this client does not know is passed over", () => {
  assert.deepEqual(parseServerFrame('{"type":"ping","at":1}'), { type: "other" });
});

test("frames that break the protocol", () => {
  const broken = [
    "hello",
    "[1,2]",
    "null",
    '{"seq":1,"data":"x"}',
    '{"type":"session","connectionId":"","resumeToken":"t","resumed":false}',
    '{"type":"session","connectionId":"c","resumed":false}',
    '{"type":"session","connectionId":"c","resumeToken":"t","resumed":"no"}',
    '{"type":"message","seq":0,"data":"x"}',
    '{"type":"message","seq":1.5,"data":"x"}',
    '{"type":"message","seq":"1","data":"x"}',
    '{"type":"message","seq":1}',
    '{"type":"message","seq":1,"data":"x","binary":"AA=="}',
    '{"type":"message","seq":1,"data":7}',
    '{"type":"message","seq":1,"binary":"not base64!"}',
  ];
  for (const text of broken) {
    assert.throws(() => parseServerFrame(text), ProtocolError, text);
  }
});

test("an ack", () => {
  assert.equal(ackFrame(42), '{"type":"ack","seq":42}');
});

test("a resume URL keeps the query and replaces an earlier attempt's parameters", () => {
  const first = resumeUrl("wss://gw.example/chat?room=lobby&name=ann", "tok/+=", 7);
  assert.equal(first, "wss://gw.example/chat?room=lobby&name=ann&resume=tok%2F%2B%3D&lastSeq=7");
  assert.equal(new URL(first).searchParams.get("resume"), "tok/+=");
  const again = resumeUrl(first, "tok2", 9);
  assert.equal(again, "wss://gw.example/chat?room=lobby&name=ann&resume=tok2&lastSeq=9");
});
