package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// Cert is a serving certificate and key for 127.0.0.1 and the DNS names it
// was issued for, with the CA that signed it (all PEM): what cert-manager
// or a chart's certificate job makes for a webhook or xDS server.
type Cert struct {
	CA, Cert, Key []byte
}

// Files is c as a kubernetes.io/tls Secret holds it, with the CA as
// ca.crt, the layout controllers read from their certificate directory.
func (c Cert) Files() map[string][]byte {
	return map[string][]byte{"tls.crt": c.Cert, "tls.key": c.Key, "ca.crt": c.CA}
}

// IssueCert makes a CA and a serving certificate signed by it, valid for a
// day, for 127.0.0.1 and dnsNames (the first is also its common name).
func IssueCert(t testing.TB, dnsNames ...string) Cert {
	t.Helper()
	// issue makes a key and a certificate for it from tmpl, signed by
	// parent's key (itself when parent is nil).
	issue := func(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return key, cert, der
	}
	now := time.Now()
	caKey, caCert, caDER := issue(&x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "testenv CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, nil, nil)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		DNSNames:     dnsNames,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if len(dnsNames) > 0 {
		leaf.Subject.CommonName = dnsNames[0]
	}
	key, _, leafDER := issue(leaf, caCert, caKey)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := Cert{
		CA:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		Cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		Key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
	// The pair must load, or a controller would fail with a less clear error.
	if _, err := tls.X509KeyPair(c.Cert, c.Key); err != nil {
		t.Fatal(err)
	}
	return c
}
