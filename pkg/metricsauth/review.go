package metricsauth

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Reviewer asks the API server who a token is and what that user may do.
type Reviewer interface {
	// Authenticate returns the user token belongs to, or nil when the API server does not
	// recognise it.
	Authenticate(ctx context.Context, token string) (*authenticationv1.UserInfo, error)
	// Authorize reports whether user may perform verb on the non-resource URL path.
	Authorize(ctx context.Context, user authenticationv1.UserInfo, verb, path string) (bool, error)
}

// APIReviewer is the Reviewer backed by the API server: one TokenReview, one SubjectAccessReview.
// The ServiceAccount needs `create` on tokenreviews and subjectaccessreviews.
type APIReviewer struct {
	Client kubernetes.Interface
}

// Authenticate implements Reviewer with a TokenReview (default audiences: the API server's).
func (a APIReviewer) Authenticate(ctx context.Context, token string) (*authenticationv1.UserInfo, error) {
	tr, err := a.Client.AuthenticationV1().TokenReviews().Create(ctx,
		&authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("TokenReview: %w", err)
	}
	if !tr.Status.Authenticated {
		return nil, nil
	}
	return &tr.Status.User, nil
}

// Authorize implements Reviewer with a SubjectAccessReview on a non-resource URL.
func (a APIReviewer) Authorize(ctx context.Context, user authenticationv1.UserInfo, verb, path string) (bool, error) {
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar, err := a.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("SubjectAccessReview: %w", err)
	}
	return sar.Status.Allowed && !sar.Status.Denied, nil
}
