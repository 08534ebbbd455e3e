//! The `jwks` Lambda function: its entry in the registry, served.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    vimcar::routes::serve(&vimcar::routes::JWKS).await
}
