//! Passwords at rest: Argon2id hashing and verification (and bcrypt verification, for imported users), off the
//! async runtime.

mod hasher;

pub use hasher::{
    M_COST_KIB, MAX_BCRYPT_COST, MAX_M_COST_KIB, MAX_P_COST, MAX_T_COST, P_COST, PasswordHasher,
    T_COST, Verification,
};
