//! The HMAC algorithms (HS256, HS384, HS512) and ES256 as jsonwebtoken's crypto provider.
//!
//! jsonwebtoken's bundled `rust_crypto` provider also links RSA, P-384 and EdDSA: about half a megabyte in every
//! bootstrap, and the `rsa` crate with its Marvin timing advisory (RUSTSEC-2023-0071), though [`super::Tokens`]
//! only ever accepts HS256 and ES256. This provider knows the HMAC family and ES256 alone; any other algorithm is an
//! error, never a panic. The HMAC is RustCrypto's, the same crate the AWS SDK signs its requests with; ECDSA is
//! RustCrypto's `p256`.
//!
//! ES256 keys: an [`EncodingKey`] holds the raw 32-byte private scalar (made with `EncodingKey::from_ec_der` from
//! [`crate::keys::KeyRecord::private_scalar`]: this provider is the only reader of those bytes), a [`DecodingKey`]
//! the uncompressed SEC1 point that `DecodingKey::from_ec_components` builds from a JWK's `x` and `y`.

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use sha2::{Sha256, Sha384, Sha512};

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    // JWK helpers: tokens never carry keys.
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes this provider the process's, unless one is installed already (a build that enables jsonwebtoken's own,
/// as the test crate does, may have installed that one first; it computes the same HMACs). Idempotent.
pub(super) fn install() {
    let _ = PROVIDER.install_default();
}

/// One key, ready for one HMAC algorithm.
enum HmacKey {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
}

impl HmacKey {
    fn new(algorithm: Algorithm, family: AlgorithmFamily, key: &[u8]) -> Result<Self> {
        if family != AlgorithmFamily::Hmac {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        let invalid = |_| ErrorKind::InvalidKeyFormat;
        Ok(match algorithm {
            Algorithm::HS256 => Self::Hs256(Hmac::new_from_slice(key).map_err(invalid)?),
            Algorithm::HS384 => Self::Hs384(Hmac::new_from_slice(key).map_err(invalid)?),
            Algorithm::HS512 => Self::Hs512(Hmac::new_from_slice(key).map_err(invalid)?),
            _ => return Err(ErrorKind::InvalidAlgorithm.into()),
        })
    }

    fn algorithm(&self) -> Algorithm {
        match self {
            Self::Hs256(_) => Algorithm::HS256,
            Self::Hs384(_) => Algorithm::HS384,
            Self::Hs512(_) => Algorithm::HS512,
        }
    }
}

fn tag_of<M: Mac + Clone>(mac: &M, message: &[u8]) -> Vec<u8> {
    let mut mac = mac.clone();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Compares in constant time.
fn verify_with<M: Mac + Clone>(mac: &M, message: &[u8], tag: &[u8]) -> bool {
    let mut mac = mac.clone();
    mac.update(message);
    mac.verify_slice(tag).is_ok()
}

impl Signer<Vec<u8>> for HmacKey {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        Ok(match self {
            Self::Hs256(mac) => tag_of(mac, message),
            Self::Hs384(mac) => tag_of(mac, message),
            Self::Hs512(mac) => tag_of(mac, message),
        })
    }
}

impl Verifier<Vec<u8>> for HmacKey {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let valid = match self {
            Self::Hs256(mac) => verify_with(mac, message, tag),
            Self::Hs384(mac) => verify_with(mac, message, tag),
            Self::Hs512(mac) => verify_with(mac, message, tag),
        };
        valid.then_some(()).ok_or_else(signature::Error::new)
    }
}

impl JwtSigner for HmacKey {
    fn algorithm(&self) -> Algorithm {
        HmacKey::algorithm(self)
    }
}

impl JwtVerifier for HmacKey {
    fn algorithm(&self) -> Algorithm {
        HmacKey::algorithm(self)
    }
}

/// An ES256 private key.
struct Es256Signer(p256::ecdsa::SigningKey);

/// An ES256 public key.
struct Es256Verifier(p256::ecdsa::VerifyingKey);

impl Signer<Vec<u8>> for Es256Signer {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        // RFC 6979's deterministic nonce; JWS wants the fixed 64-byte r || s.
        let signature: p256::ecdsa::Signature = self.0.try_sign(message)?;
        Ok(signature.to_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Es256Verifier {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let signature = p256::ecdsa::Signature::from_slice(tag)?;
        self.0.verify(message, &signature)
    }
}

impl JwtSigner for Es256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

impl JwtVerifier for Es256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    if *algorithm == Algorithm::ES256 && key.family() == AlgorithmFamily::Ec {
        let key = p256::ecdsa::SigningKey::from_slice(key.as_bytes())
            .map_err(|_| ErrorKind::InvalidEcdsaKey)?;
        return Ok(Box::new(Es256Signer(key)));
    }
    Ok(Box::new(HmacKey::new(
        *algorithm,
        key.family(),
        key.as_bytes(),
    )?))
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if *algorithm == Algorithm::ES256 && key.family() == AlgorithmFamily::Ec {
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key.try_get_as_bytes()?)
            .map_err(|_| ErrorKind::InvalidEcdsaKey)?;
        return Ok(Box::new(Es256Verifier(key)));
    }
    Ok(Box::new(HmacKey::new(
        *algorithm,
        key.family(),
        key.try_get_as_bytes()?,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    #[test]
    fn signatures_are_rfc_4231s_hmacs() {
        let sign = |algorithm| {
            let key = HmacKey::new(algorithm, AlgorithmFamily::Hmac, b"Jefe").unwrap();
            hex(&key.try_sign(b"what do ya want for nothing?").unwrap())
        };
        assert_eq!(
            sign(Algorithm::HS256),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            sign(Algorithm::HS384),
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"
        );
        assert_eq!(
            sign(Algorithm::HS512),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    #[test]
    fn a_signature_verifies_and_a_changed_message_does_not() {
        let key = HmacKey::new(Algorithm::HS256, AlgorithmFamily::Hmac, b"key").unwrap();
        let tag = key.try_sign(b"message").unwrap();
        assert!(key.verify(b"message", &tag).is_ok());
        assert!(key.verify(b"messagf", &tag).is_err());
    }

    #[test]
    fn other_algorithms_are_an_error_not_a_panic() {
        let key = EncodingKey::from_secret(b"key");
        for algorithm in [
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::PS256,
            Algorithm::EdDSA,
        ] {
            let error = signer(&algorithm, &key).err().expect("refused");
            assert_eq!(error.kind(), &ErrorKind::InvalidAlgorithm);
        }
    }
}
