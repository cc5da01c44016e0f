"""scikit-learn conformance: every check of check_estimator, and use in the library's tools
(clone, Pipeline, GridSearchCV)."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from drlim import DrLIM

from conftest import blobs


# the defaults, and a small net that runs the checks quickly; no check is expected to fail
@parametrize_with_checks([DrLIM(), DrLIM(hidden=(16,), epochs=3, n_jobs=1)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_clone_keeps_parameters_and_drops_the_fit():
    est = DrLIM(hidden=(8,), epochs=2, random_state=3).fit(blobs()[0])
    c = clone(est)
    assert c.get_params() == est.get_params()
    assert not hasattr(c, "embedding_")


def test_pipeline_with_grid_search_picks_a_setting_by_knn_accuracy():
    X, y = blobs(n=150, d=12)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("drlim", DrLIM(hidden=(32,), epochs=5, random_state=0, n_jobs=1)),
            ("knn", KNeighborsClassifier(n_neighbors=5)),
        ]
    )
    search = GridSearchCV(
        pipe, {"drlim__n_components": [2, 3], "drlim__margin": [0.5, 1.0]}, cv=3
    )
    search.fit(X, y)
    assert set(search.best_params_) == {"drlim__n_components", "drlim__margin"}
    assert len(search.cv_results_["mean_test_score"]) == 4
    # three clusters six standard deviations apart: any setting maps them apart
    assert search.best_score_ > 0.9
    assert search.predict(X).shape == (150,)
    assert search.best_estimator_["drlim"].transform(X[:5]).shape[1] in (2, 3)
