// Package testkeys makes throwaway signing keys for the generator's tests,
// shared by its internal and external test packages.
package testkeys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

// PEM returns a new key pair, ECDSA P-256 or RSA 2048, as PEM: the private
// key in PKCS #8, the public key in PKIX, what mender-artifact reads.
func PEM(t testing.TB, ecdsaKey bool) (priv, pub []byte) {
	t.Helper()
	var key crypto.Signer
	var err error
	if ecdsaKey {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
}
