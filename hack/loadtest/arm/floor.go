package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// maxBody is controller-runtime's limit on a review body (7 MiB), kept by the floor arm too.
const maxBody = 7 << 20

// floor answers every review with a constant patch doing as little as an answer allows: read
// the body, take the request's UID, write the answer. The UID comes from the prefix the API
// server writes (AdmissionRequest's first field, right after "request"); any other body is
// decoded in full.
type floor struct{ patch []byte }

type floorReview struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Request    *floorRequest `json:"request,omitempty"`
	Response   *floorAnswer  `json:"response,omitempty"`
}

type floorRequest struct {
	UID string `json:"uid"`
}

type floorAnswer struct {
	UID       string `json:"uid"`
	Allowed   bool   `json:"allowed"`
	PatchType string `json:"patchType"`
	Patch     []byte `json:"patch"`
}

var uidPrefix = []byte(`"request":{"uid":"`)

func (f floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "unreadable or oversized body", http.StatusBadRequest)
		return
	}
	uid, ok := prefixUID(body)
	if !ok {
		var in floorReview
		if err := json.Unmarshal(body, &in); err != nil || in.Request == nil {
			http.Error(w, "not an AdmissionReview request", http.StatusBadRequest)
			return
		}
		uid = in.Request.UID
	}
	out, err := json.Marshal(floorReview{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview",
		Response: &floorAnswer{UID: uid, Allowed: true, PatchType: "JSONPatch", Patch: f.patch}})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// prefixUID finds the request UID right after `"request":{"uid":"`, accepting only the
// characters of a UID (so no JSON escape can hide in it).
func prefixUID(body []byte) (string, bool) {
	i := bytes.Index(body, uidPrefix)
	if i < 0 {
		return "", false
	}
	rest := body[i+len(uidPrefix):]
	end := bytes.IndexByte(rest, '"')
	if end <= 0 || end > 128 {
		return "", false
	}
	for _, c := range rest[:end] {
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", false
		}
	}
	return string(rest[:end]), true
}
