package generator

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/mendersoftware/mender-artifact/artifact"
)

// minRSABits is the smallest RSA key accepted for signing.
const minRSABits = 2048

// deterministicSigner signs the manifest as mender-artifact's PKISigner does
// (base64 of an RSA PKCS #1 v1.5 signature over SHA-256, or of the ECDSA
// P-256 r||s pair as artifact.MarshalECDSASignature encodes it) but without
// randomness: RSA PKCS #1 v1.5 is deterministic by construction, and ECDSA
// uses RFC 6979 nonces (crypto/ecdsa with a nil random source), so the same
// key and manifest always give the same signature bytes.
type deterministicSigner struct {
	rsa   *rsa.PrivateKey
	ecdsa *ecdsa.PrivateKey
}

var _ artifact.Signer = (*deterministicSigner)(nil)

// ParseSigningKey reads a PEM private key: RSA (PKCS #1 or PKCS #8) of at
// least 2048 bits, or ECDSA on P-256 (SEC 1 or PKCS #8).
func ParseSigningKey(pemBytes []byte) (artifact.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", block.Type, err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits: need at least %d", k.N.BitLen(), minRSABits)
		}
		return &deterministicSigner{rsa: k}, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("ECDSA key on %s: only P-256 is supported", k.Curve.Params().Name)
		}
		return &deterministicSigner{ecdsa: k}, nil
	}
	return nil, fmt.Errorf("unsupported key type %T: want RSA or ECDSA P-256", key)
}

// Sign returns the base64 signature of message, as stored in manifest.sig.
func (s *deterministicSigner) Sign(message []byte) ([]byte, error) {
	h := sha256.Sum256(message)
	var raw []byte
	var err error
	if s.rsa != nil {
		raw, err = rsa.SignPKCS1v15(nil, s.rsa, crypto.SHA256, h[:])
	} else {
		var der []byte
		der, err = s.ecdsa.Sign(nil, h[:], crypto.SHA256)
		if err == nil {
			r, ss, uerr := artifact.UnmarshalECDSASignatureASN1(der)
			if uerr != nil {
				return nil, fmt.Errorf("signer: %w", uerr)
			}
			raw, err = artifact.MarshalECDSASignature(r, ss)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("signer: sign manifest: %w", err)
	}
	out := make([]byte, base64.StdEncoding.EncodedLen(len(raw)))
	base64.StdEncoding.Encode(out, raw)
	return out, nil
}

// Verify checks a base64 signature against message.
func (s *deterministicSigner) Verify(message, sig []byte) error {
	raw, err := base64.StdEncoding.DecodeString(string(sig))
	if err != nil {
		return fmt.Errorf("signer: decode signature: %w", err)
	}
	h := sha256.Sum256(message)
	if s.rsa != nil {
		return rsa.VerifyPKCS1v15(&s.rsa.PublicKey, crypto.SHA256, h[:], raw)
	}
	r, ss, err := artifact.UnmarshalECDSASignature(raw)
	if err != nil {
		return fmt.Errorf("signer: %w", err)
	}
	if !ecdsa.Verify(&s.ecdsa.PublicKey, h[:], r, ss) {
		return errors.New("signer: ECDSA signature does not verify")
	}
	return nil
}
