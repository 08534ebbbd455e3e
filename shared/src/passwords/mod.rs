//! Passwords at rest: Argon2id hashing and verification, off the async runtime.

mod hasher;

pub use hasher::{
    M_COST_KIB, MAX_M_COST_KIB, MAX_P_COST, MAX_T_COST, P_COST, PasswordHasher, T_COST,
    Verification,
};
