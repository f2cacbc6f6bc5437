mod common;

use common::*;

#[test]
fn get_sends_sdk_headers_and_decodes_the_sandbox() {
    let mut server = mockito::Server::new();
    let m = with_sdk_headers(server.mock("GET", "/api/sandbox/sb-1"))
        .match_header("x-daytona-organization-id", mockito::Matcher::Missing)
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(sandbox_json("sb-1", "started").to_string())
        .expect(1)
        .create();
    let sb = client(&server).get("sb-1").unwrap();
    m.assert();
    assert_eq!(sb.id(), "sb-1");
    assert_eq!(sb.state(), Some(&daytona::SandboxState::Started));
    assert_eq!(sb.info().env.get("A").map(String::as_str), Some("1"));
}
