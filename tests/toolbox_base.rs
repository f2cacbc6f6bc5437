mod common;

use common::*;

#[test]
fn home_and_work_dir_use_the_toolbox_base_with_sdk_headers() {
    let mut server = mockito::Server::new();
    let daytona = client(&server);
    let sandbox = toolbox_sandbox(&mut server, &daytona);
    let home = with_sdk_headers(server.mock("GET", format!("{TOOLBOX}/user-home-dir").as_str()))
        .with_status(200)
        .with_body(r#"{"dir":"/home/daytona"}"#)
        .expect(1)
        .create();
    let work = with_sdk_headers(server.mock("GET", format!("{TOOLBOX}/work-dir").as_str()))
        .with_status(200)
        .with_body(r#"{"dir":"/home/daytona/app"}"#)
        .expect(1)
        .create();
    assert_eq!(sandbox.user_home_dir().unwrap(), "/home/daytona");
    assert_eq!(sandbox.work_dir().unwrap(), "/home/daytona/app");
    home.assert();
    work.assert();
}

#[test]
fn a_sandbox_without_a_toolbox_url_is_a_clear_error_without_a_request() {
    let mut server = mockito::Server::new();
    let daytona = client(&server);
    let mut body = sandbox_json("sb-2", "started");
    body["toolboxProxyUrl"] = serde_json::json!("");
    let _get = server
        .mock("GET", "/api/sandbox/sb-2")
        .with_body(body.to_string())
        .create();
    let sandbox = daytona.get("sb-2").unwrap();
    let none = no_requests(&mut server);
    let err = sandbox.work_dir().unwrap_err();
    // The server's data, not the configuration: a decode error.
    assert!(err.is_decode(), "{err:?}");
    assert!(!err.is_config(), "{err:?}");
    assert!(err.to_string().contains("sb-2"), "{err}");
    assert_all(&none);
}
