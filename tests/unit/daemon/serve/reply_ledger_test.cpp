// The ledger of control-socket replies: a body's bytes count once however many frames carry it,
// for as long as any does, and a client has a reply outstanding until libzmq lets go of its frame.
#include "serve/reply_ledger.hpp"

#include <catch2/catch.hpp>
#include <zmq_addon.hpp>

using callwatch::daemon::ReplyLedger;

TEST_CASE("a shared body counts once and until its last frame is gone", "[publisher][ledger]") {
  auto ledger = std::make_shared<ReplyLedger>();
  auto body = ledger->make_body(std::string(1000, 'x'), 7);
  CHECK(ledger->queued_bytes() == 1000);
  {
    zmq::message_t a = ledger->message(body, "client-a");
    zmq::message_t b = ledger->message(body, "client-b");
    zmq::message_t a2 = ledger->message(body, "client-a");
    body.reset();                           // only the frames hold it now
    CHECK(ledger->queued_bytes() == 1000);  // three frames, one body
    CHECK(ledger->outstanding("client-a") == 2);
    CHECK(ledger->outstanding("client-b") == 1);
    CHECK(a.size() == 1000);
    CHECK(std::string(a.data<char>(), 3) == "xxx");
  }
  CHECK(ledger->outstanding("client-a") == 0);
  CHECK(ledger->outstanding("client-b") == 0);
  CHECK(ledger->queued_bytes() == 0);
}

TEST_CASE("a frame sent through a socket is released once the peer has it", "[publisher][ledger]") {
  zmq::context_t ctx;
  zmq::socket_t pull(ctx, zmq::socket_type::pull);
  pull.bind("inproc://ledger-test");
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.connect("inproc://ledger-test");
  auto ledger = std::make_shared<ReplyLedger>();
  {
    auto body = ledger->make_body("snapshot body");
    REQUIRE(push.send(ledger->message(body, "c"), zmq::send_flags::none));
  }
  CHECK(ledger->outstanding("c") == 1);  // waiting in the pipe
  zmq::message_t got;
  REQUIRE(pull.recv(got));
  CHECK(got.to_string() == "snapshot body");
  got = zmq::message_t();  // inproc hands the same frame over: dropping it releases it
  CHECK(ledger->outstanding("c") == 0);
  CHECK(ledger->queued_bytes() == 0);
}
