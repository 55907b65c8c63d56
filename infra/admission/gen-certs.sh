#!/bin/sh
# Certificates for `lastmile admission` without cert-manager: a CA and a serving certificate
# for lastmile-admission.lastmile.svc (ECDSA P-256, 825 days), stored as the Secret the
# Deployment mounts, and the CA patched into the webhook configuration's caBundle.
# Usage: ./gen-certs.sh [namespace]   (needs openssl and kubectl; re-run before expiry)
set -eu
ns="${1:-lastmile}"
svc="lastmile-admission"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
cd "$dir"
openssl ecparam -name prime256v1 -genkey -noout -out ca.key
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=${svc}-ca" -out ca.crt
openssl ecparam -name prime256v1 -genkey -noout -out tls.key
openssl req -new -key tls.key -subj "/CN=${svc}.${ns}.svc" -out tls.csr
printf 'subjectAltName=DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local\nextendedKeyUsage=serverAuth\n' \
  "$svc" "$ns" "$svc" "$ns" > ext.cnf
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -sha256 \
  -extfile ext.cnf -out tls.crt
kubectl -n "$ns" create secret tls "${svc}-tls" --cert=tls.crt --key=tls.key \
  --dry-run=client -o yaml | kubectl apply -f -
ca="$(base64 < ca.crt | tr -d '\n')"
for i in 0 1; do
  kubectl patch validatingwebhookconfiguration "$svc" --type=json \
    -p "[{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"$ca\"}]"
done
