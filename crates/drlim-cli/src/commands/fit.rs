//! `drlim fit`: data → k-NN neighbours → pairs → training → model directory.

use drlim::data::{load, load_labels_for};
use drlim::eval::{knn_accuracy_loo, pair_distances};
use drlim::output::{check_writable, write_matrix};
use drlim::points::Points;
use drlim::{fit_with, Device, Error, Result};

use super::{fit_options, say, show};
use crate::cli::FitArgs;
use crate::progress::Progress;

pub fn run(a: FitArgs, device: &Device) -> Result<()> {
    let quiet = a.train.quiet;
    // Check every output before the long work, so a typo does not cost a training run.
    if a.model_out.is_file() {
        return Err(Error::output(
            &a.model_out,
            "exists and is a file, not a model directory",
        ));
    }
    if a.model_out.is_dir() {
        check_writable(&a.model_out.join(drlim::model::CONFIG_FILE))?;
    } else {
        check_writable(&a.model_out)?;
    }
    for e in a.embedding_out.iter().chain(&a.graph_out) {
        drlim::output::MatrixFormat::from_path(e)?;
        check_writable(e)?;
    }
    let data = load(&a.data)?;
    let labels = a
        .labels
        .as_ref()
        .map(|l| load_labels_for(l, data.n))
        .transpose()?;
    say(
        quiet,
        format!(
            "data: {} samples of shape {:?} ({})",
            data.n,
            data.shape,
            show(&a.data)
        ),
    );
    let options = fit_options(&a.train, a.net, &a.hidden, a.normalise)?;
    let mut progress = Progress::new(quiet);
    let source = super::sources::build(&a, &options, labels.as_deref(), &data)?;
    let fitted = fit_with(&data, &options, source.as_ref(), device, &mut progress)?;
    let model = &fitted.model;
    model.save(&a.model_out)?;
    if let Err(err) = fitted.outcome.check() {
        let kept = fitted.history.len();
        return Err(Error::param(format!(
            "{err}; kept the model of the last good epoch ({kept}) in {}",
            show(&a.model_out)
        )));
    }
    let emb = model.embed(&data)?;
    let points = Points::new(&emb, model.dim());
    let d = pair_distances(&points, &fitted.graph, 5000, options.train.seed);
    say(
        quiet,
        format!(
            "training map: mean distance of neighbour pairs {:.4}, of random pairs {:.4} (ratio {:.3})",
            d.neighbour_mean,
            d.random_mean,
            d.ratio()
        ),
    );
    if let Some(labels) = labels {
        let acc = knn_accuracy_loo(&points, &labels, options.k.max(1))?;
        say(
            quiet,
            format!(
                "training map: leave-one-out {}-NN accuracy {acc:.4}",
                options.k.max(1)
            ),
        );
    }
    if let Some(path) = &a.embedding_out {
        write_matrix(path, &emb, data.n, model.dim())?;
        say(
            quiet,
            format!("wrote the training embedding to {}", show(path)),
        );
    }
    if let Some(path) = &a.graph_out {
        let pairs: Vec<f32> = fitted
            .graph
            .pairs()
            .iter()
            .flat_map(|&(i, j)| [i as f32, j as f32])
            .collect();
        write_matrix(path, &pairs, fitted.graph.len(), 2)?;
        say(
            quiet,
            format!(
                "wrote the {} neighbour pairs to {}",
                fitted.graph.len(),
                show(path)
            ),
        );
    }
    say(quiet, format!("saved the model to {}", show(&a.model_out)));
    Ok(())
}
