//! Enumeration resistance in time: a wrong password and an unknown user cost the same, statistically.

use std::time::{Duration, Instant};

use serde_json::json;
use vimcar::handlers::auth;
use vimcar::users::Password;
use vimcar_tests::requests::post_json;
use vimcar_tests::{STRONG_PASSWORD, app, user};

use super::Users;

const TRIES: usize = 15;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn a_wrong_password_and_an_unknown_user_take_the_same_time(users: Users) {
    let app = app(users.clone());
    let hash = app
        .hasher
        .hash(&Password::parse(STRONG_PASSWORD, &[]).unwrap())
        .await
        .unwrap();
    for i in 0..TRIES {
        users
            .insert(&user(&format!("known{i}")), Some(&hash))
            .await
            .unwrap();
    }
    // Interleaved, one try per name (so throttling never kicks in), medians against the machine's noise.
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..TRIES {
        for (name, samples) in [
            (format!("known{i}"), &mut known),
            (format!("unknown{i}"), &mut unknown),
        ] {
            let request = post_json(
                "/auth",
                &json!({"username": name, "password": "not the password at all"}),
            );
            let started = Instant::now();
            let response = auth(&app, request).await;
            samples.push(started.elapsed());
            assert_eq!(response.status(), 401);
        }
    }
    let (known, unknown) = (median(known), median(unknown));
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    assert!(
        (0.75..=1.33).contains(&ratio),
        "wrong password {known:?} vs unknown user {unknown:?} (ratio {ratio:.2})"
    );
}

for_each_backend!(a_wrong_password_and_an_unknown_user_take_the_same_time);
