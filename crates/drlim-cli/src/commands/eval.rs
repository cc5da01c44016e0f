//! `drlim eval`: k-NN accuracy, trustworthiness and neighbour-vs-random distances of an embedding.

use drlim::data::{load, load_labels_for, Normalisation, NormaliseMode};
use drlim::eval::{knn_accuracy, knn_accuracy_loo, pair_distances, trustworthiness};
use drlim::neighbours::{KnnSource, NeighbourSource};
use drlim::output::write_bytes;
use drlim::points::Points;
use drlim::{Error, Result};
use serde_json::{json, Map, Value};

use super::show;
use crate::cli::EvalArgs;

pub fn run(a: EvalArgs) -> Result<()> {
    let emb = load(&a.embedding)?;
    let d = emb.dim();
    let values = emb.values();
    let points = Points::new(&values, d);
    let mut out = Map::new();
    out.insert("n".into(), json!(emb.n));
    out.insert("dim".into(), json!(d));
    println!(
        "embedding: {} points in {d} dimensions ({})",
        emb.n,
        show(&a.embedding)
    );
    let labels = a
        .labels
        .as_ref()
        .map(|l| load_labels_for(l, emb.n))
        .transpose()?;
    match (&a.reference_embedding, &a.reference_labels, &labels) {
        (Some(r), Some(rl), Some(labels)) => {
            let reference = load(r)?;
            let ref_labels = load_labels_for(rl, reference.n)?;
            let values = reference.values();
            let rp = Points::new(&values, reference.dim());
            let acc = knn_accuracy(&rp, &ref_labels, &points, labels, a.k)
                .map_err(|e| Error::data(r, e.to_string()))?;
            println!(
                "{}-NN accuracy against the reference embedding: {acc:.5}",
                a.k
            );
            out.insert(format!("knn{}_accuracy", a.k), json!(acc));
        }
        (Some(_), Some(_), None) => {
            return Err(Error::param(
                "--labels is needed to classify the embedding against the reference",
            ));
        }
        (None, None, Some(labels)) => {
            let acc = knn_accuracy_loo(&points, labels, a.k)?;
            println!("leave-one-out {}-NN accuracy: {acc:.4}", a.k);
            out.insert(format!("loo_knn{}_accuracy", a.k), json!(acc));
        }
        _ => {}
    }
    if let Some(data_path) = &a.data {
        let data = load(data_path)?;
        if data.n != emb.n {
            return Err(Error::data(
                data_path,
                format!(
                    "holds {} samples but the embedding has {} points",
                    data.n, emb.n
                ),
            ));
        }
        let x = Normalisation::fit(NormaliseMode::Auto, &data).apply(&data);
        let xp = Points::new(&x, data.dim());
        let t = trustworthiness(&xp, &points, a.trust_k)?;
        println!("trustworthiness ({} neighbours): {t:.5}", a.trust_k);
        out.insert(format!("trustworthiness{}", a.trust_k), json!(t));
        let graph = KnnSource { k: a.k }.graph(&xp)?;
        let p = pair_distances(&points, &graph, 5000, 0);
        println!(
            "mean distance of input-space {}-NN pairs: {:.4}; of random pairs: {:.4}; ratio {:.3}{}",
            a.k,
            p.neighbour_mean,
            p.random_mean,
            p.ratio(),
            if p.ratio() > 0.5 { "  (neighbours are barely closer than random pairs: is the map collapsed?)" } else { "" }
        );
        out.insert(
            "pair_distances".into(),
            serde_json::to_value(&p).expect("serialises"),
        );
        out.insert("pair_distance_ratio".into(), json!(p.ratio()));
    } else {
        let p = pair_distances(
            &points,
            &drlim::neighbours::NeighbourGraph::from_pairs(emb.n, []),
            5000,
            0,
        );
        println!("mean distance of random pairs: {:.4} (add --data for trustworthiness and neighbour-pair distances)", p.random_mean);
        out.insert("random_pair_mean_distance".into(), json!(p.random_mean));
    }
    if let Some(j) = &a.json {
        write_bytes(
            j,
            &serde_json::to_vec_pretty(&Value::Object(out)).expect("serialises"),
        )?;
    }
    Ok(())
}
