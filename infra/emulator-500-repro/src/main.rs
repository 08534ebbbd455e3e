use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // HELLO_BYTES: the size of the answer's body (default 5).
    let bytes: usize = std::env::var("HELLO_BYTES").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let body = "x".repeat(bytes);
    run(service_fn(move |_: Request| {
        let body = body.clone();
        async move { Ok::<_, Error>(Response::new(Body::from(body))) }
    }))
    .await
}
